import ClusterZones
import DNSWire

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
        let question = DNSQuestion(name: view.lowercasedName(in: query), type: RecordType(view.type), class: DNSClass(rawValue: view.class))
        // Room for our OPT record is kept back, as the encoder keeps it when it writes one.
        let limit = view.maxSize - (view.hasEDNS ? OPTRecord.fixedSize : 0)
        return catalog.answer(question).encoded(for: question, maxSize: limit, scratch: &thread.scratch) { encoded in
            thread.cache?.store(encoded, for: view, query: query)
            return view.writeResponse(
                to: query, flags: encoded.flags, answerCount: encoded.answerCount, authorityCount: encoded.authorityCount,
                additionalCount: encoded.additionalCount, body: encoded.body, into: output)
        }
    }
}
