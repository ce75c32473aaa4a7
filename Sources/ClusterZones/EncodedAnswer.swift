import DNSWire
import NIOCore

/// An answer as bytes: encoded for the lower-cased question without EDNS, split into the parts
/// `DNSQueryView.writeResponse` assembles into a client's response. The answer table stores these
/// parts, the response cache stores them, and the general path makes them per query, so every path
/// sends the bytes this one encoding gives.
public struct EncodedAnswer {
    public var flags: UInt16
    public var answerCount: UInt16
    public var authorityCount: UInt16
    public var additionalCount: UInt16
    /// Every section after the question. Valid only inside the closure that receives it.
    public var body: UnsafeRawBufferPointer
}

extension Answer {
    /// Encodes this answer to `question` (lower case) within `maxSize` bytes (the encoder truncates
    /// what does not fit) into `scratch`, and hands the parts to `use`.
    public func encoded<Result>(
        for question: DNSQuestion, maxSize: Int = 65535, scratch: inout ByteBuffer, _ use: (EncodedAnswer) -> Result
    ) -> Result {
        let header = DNSHeader.response(
            to: DNSHeader(), responseCode: responseCode, authoritative: authoritative, recursionAvailable: recursionAvailable)
        let message = DNSMessage(header: header, questions: [question], answers: answers, authority: authority, additional: additional)
        scratch.clear()
        DNSMessageEncoder.encode(message, into: &scratch, maxSize: maxSize)
        let bodyStart = 12 + question.name.wire.count + 4
        return scratch.withUnsafeReadableBytes { bytes in
            use(EncodedAnswer(
                flags: bytes.bigEndianUInt16(at: 2), answerCount: bytes.bigEndianUInt16(at: 6),
                authorityCount: bytes.bigEndianUInt16(at: 8), additionalCount: bytes.bigEndianUInt16(at: 10),
                body: UnsafeRawBufferPointer(rebasing: bytes[bodyStart...])))
        }
    }
}
