import ClusterZones
import DNSWire
import NIOCore

/// One link of the answer chain (`QueryPipeline`): answers a query the view read, writing the
/// response into the transport's buffer, or passes it on with nil.
protocol QueryAnswerer {
    func answer(_ view: DNSQueryView, query: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int?
}

/// The zones' compiled bytes.
extension AnswerTable: QueryAnswerer {}

/// The last link: asks the catalog in lower case and encodes its answer for this query's size
/// limit, keeping the encoded answer in this thread's cache for the next asker. It always answers.
struct GeneralAnswerer: QueryAnswerer {
    let catalog: Catalog
    let thread: PipelineThread

    func answer(_ view: DNSQueryView, query: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let question = view.question(in: query)
        return answer(catalog.answer(question), to: question, view, query: query, into: output)
    }

    /// Writes the catalog's `answer` to `question` (asked already), keeping it in this thread's cache.
    func answer(_ answer: Answer, to question: DNSQuestion, _ view: DNSQueryView, query: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        view.write(answer, to: question, query: query, scratch: &thread.scratch, into: output) { thread.cache?.store($0, for: view, query: query) }
    }
}

extension DNSQueryView {
    /// Encodes `answer` to `question` (this query's, in lower case) for this query's size limit
    /// and writes the response (`writeResponse`), handing the encoded parts to `keep` first: how
    /// every answer that is not copied from stored bytes becomes a response.
    func write(
        _ answer: Answer, to question: DNSQuestion, query: UnsafeRawBufferPointer, scratch: inout ByteBuffer,
        into output: UnsafeMutableRawBufferPointer, keep: (EncodedAnswer) -> Void = { _ in }
    ) -> Int? {
        // Room for our OPT record is kept back, as the encoder keeps it when it writes one.
        let limit = maxSize - (hasEDNS ? OPTRecord.fixedSize : 0)
        return answer.encoded(for: question, maxSize: limit, scratch: &scratch) { encoded in
            keep(encoded)
            return writeResponse(
                to: query, flags: encoded.flags, answerCount: encoded.answerCount, authorityCount: encoded.authorityCount,
                additionalCount: encoded.additionalCount, body: encoded.body, into: output)
        }
    }
}
