import ClusterZones
import DNSWire
import NIOCore

/// Answers what `DNSQueryView` does not take, through the strict decoder: FORMERR for what does
/// not decode or has the wrong shape, NOTIMP for other opcodes, BADVERS for other EDNS versions,
/// and a real answer for the rare valid query of an unusual shape (an extra additional record).
/// Nothing here is cached, so an error never becomes the answer to a question.
struct StrictAnswerer {
    let catalog: Catalog
    let thread: PipelineThread

    func respond(to query: UnsafeRawBufferPointer, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> DNSResponse? {
        let bytes = ByteBuffer(bytes: query)
        guard let (message, maxSize) = response(to: bytes, over: transport) else { return nil }
        thread.scratch.clear()
        DNSMessageEncoder.encode(message, into: &thread.scratch, maxSize: maxSize)
        let length = thread.scratch.readableBytes
        guard length <= output.count else { return nil }
        thread.scratch.withUnsafeReadableBytes { output.copyMemory(from: $0) }
        return DNSResponse(length: length, path: .strict)
    }

    /// The response message and the size it must fit in; nil when the query is to be dropped.
    private func response(to query: ByteBuffer, over transport: DNSTransport) -> (DNSMessage, maxSize: Int)? {
        // No readable header: nobody to answer. A response (QR=1): never answer, or we could loop.
        guard let header = try? DNSMessageDecoder.decodeHeader(query), !header.isResponse else { return nil }
        let message: DNSMessage
        do {
            message = try DNSMessageDecoder.decode(query)
        } catch {
            return (errorResponse(to: header, code: .formatError), transport.responseLimit(clientPayloadSize: nil))
        }
        let responseEDNS = message.edns.map { _ in OPTRecord.ours }
        let maxSize = transport.responseLimit(clientPayloadSize: message.edns?.udpPayloadSize)
        guard message.header.opcode == .query else {
            return (errorResponse(to: header, code: .notImplemented, questions: message.questions, edns: responseEDNS), maxSize)
        }
        // IXFR carries the client's SOA in the authority section (RFC 1995 §3).
        let isIXFR = message.questions.first?.type == .ixfr
        guard message.questions.count == 1, message.answers.isEmpty, message.authority.isEmpty || isIXFR else {
            return (errorResponse(to: header, code: .formatError, edns: responseEDNS), maxSize)
        }
        if let edns = message.edns, edns.version != 0 {
            // RFC 6891 §6.1.3: BADVERS, whose upper bits travel in our OPT record.
            var badVersion = OPTRecord.ours
            badVersion.extendedResponseCode = 1
            return (errorResponse(to: header, code: .noError, questions: message.questions, edns: badVersion), maxSize)
        }
        let question = message.questions[0]
        let answer = catalog.answer(question)
        let response = DNSMessage(
            header: DNSHeader.response(to: header, responseCode: answer.responseCode, authoritative: answer.authoritative),
            questions: [question], answers: answer.answers, authority: answer.authority, additional: answer.additional,
            edns: responseEDNS)
        return (response, maxSize)
    }

    private func errorResponse(to header: DNSHeader, code: ResponseCode, questions: [DNSQuestion] = [], edns: EDNS? = nil) -> DNSMessage {
        DNSMessage(header: DNSHeader.response(to: header, responseCode: code, authoritative: false), questions: questions, edns: edns)
    }
}
