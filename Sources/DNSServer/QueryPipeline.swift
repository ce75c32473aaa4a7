import Atomics
import ClusterDNS
import DNSWire
import NIOCore
import NIOPosix

/// A catalog and, once compiled, its answers as bytes: one pointer swap publishes both.
final class PublishedCatalog: AtomicReference, Sendable {
    let catalog: Catalog
    let compiled: CompiledAnswers?

    init(_ catalog: Catalog, compiled: CompiledAnswers? = nil) {
        self.catalog = catalog
        self.compiled = compiled
    }
}

/// The per-query path: decode, ask the catalog current at that instant, encode within the
/// transport's size limit. A query reads one catalog from start to end, so answers are always
/// consistent, and publishing a new one never blocks a query.
///
/// Two byte-copying paths come first and allocate nothing: the catalog's compiled answers (every
/// name it holds, see `CompiledAnswers`) and a per-thread cache of the other recent responses.
public final class QueryPipeline: DNSResponder, Sendable {
    /// Our EDNS UDP payload size (DNS Flag Day 2020): advertised, and the most we send over UDP.
    public static let maxUDPPayload: UInt16 = 1232
    /// Without EDNS a UDP response is at most 512 bytes (RFC 1035).
    static let classicUDPLimit = 512

    private let current: ManagedAtomic<PublishedCatalog>
    /// Each event loop thread keeps its own cache of encoded responses.
    private let caches = ThreadSpecificVariable<ResponseCache>()
    private let cachingEnabled: Bool

    /// - Parameter cachingResponses: answer repeated questions from their encoded bytes
    ///   (per thread, emptied when a new catalog is published).
    public init(catalog: Catalog, cachingResponses: Bool = true) {
        self.current = ManagedAtomic(PublishedCatalog(catalog))
        self.cachingEnabled = cachingResponses
    }

    /// The catalog queries see now.
    public var catalog: Catalog { current.load(ordering: .acquiring).catalog }

    /// Makes `catalog` the one every later query sees. Its answers are not compiled yet: call
    /// `compileAnswers()` next, after whatever should not wait for that (the first answer).
    public func publish(_ catalog: Catalog) {
        current.store(PublishedCatalog(catalog), ordering: .releasing)
    }

    /// Encodes the answers of every name the current catalog holds and publishes them with it,
    /// unless a newer catalog was published meanwhile.
    /// - Returns: the names compiled and the bytes they take.
    @discardableResult
    public func compileAnswers() -> (names: Int, bytes: Int) {
        let published = current.load(ordering: .acquiring)
        let compiled = CompiledAnswers(catalog: published.catalog)
        _ = current.compareExchange(expected: published, desired: PublishedCatalog(published.catalog, compiled: compiled), ordering: .acquiringAndReleasing)
        return (compiled.nameCount, compiled.byteCount)
    }

    public func batchResponder() -> (any DNSBatchResponder)? {
        copying(current.load(ordering: .acquiring))
    }

    /// One query on the byte-copying path (tests and tools; the UDP batch engine uses
    /// `batchResponder()`); nil when the general path must answer.
    public func respond(to query: UnsafeRawBufferPointer, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> Int? {
        copying(current.load(ordering: .acquiring)).respond(to: query, over: transport, into: output)
    }

    public func respond(to query: ByteBuffer, over transport: DNSTransport, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let published = current.load(ordering: .acquiring)
        let parsed = query.withUnsafeReadableBytes { PlainQuery($0, transport: transport) }
        // One buffer either way: the copy goes into it, or else the encoded response.
        var response = allocator.buffer(capacity: parsed.map { min($0.maxSize, Int(Self.maxUDPPayload)) } ?? 512)
        if let parsed {
            let copying = copying(published)
            let written = response.writeWithUnsafeMutableBytes(minimumWritableBytes: response.capacity) { output in
                query.withUnsafeReadableBytes { copying.respond(to: $0, parsed, into: output) } ?? 0
            }
            if written > 0 { return response }
        }
        guard let (message, maxSize) = self.response(to: query, over: transport, catalog: published.catalog) else { return nil }
        DNSMessageEncoder.encode(message, into: &response, maxSize: maxSize)
        if let parsed, cachingEnabled {
            query.withUnsafeReadableBytes { cache().store(response, for: $0, parsed) }
        }
        return response
    }

    private func copying(_ published: PublishedCatalog) -> CopyingResponder {
        CopyingResponder(published: published, cache: cachingEnabled ? cache() : nil)
    }

    private func cache() -> ResponseCache {
        if let existing = caches.currentValue { return existing }
        let cache = ResponseCache()
        caches.currentValue = cache
        return cache
    }

    /// The response message and the size it must fit in; nil when the query is to be dropped.
    private func response(to query: ByteBuffer, over transport: DNSTransport, catalog: Catalog) -> (DNSMessage, maxSize: Int)? {
        // No readable header: nobody to answer. A response (QR=1): never answer, or we could loop.
        guard let header = try? DNSMessageDecoder.decodeHeader(query), !header.isResponse else { return nil }
        let message: DNSMessage
        do {
            message = try DNSMessageDecoder.decode(query)
        } catch {
            return (errorResponse(to: header, code: .formatError), limit(for: nil, over: transport))
        }
        let responseEDNS = message.edns.map { _ in EDNS(udpPayloadSize: Self.maxUDPPayload) }
        let maxSize = limit(for: message.edns, over: transport)
        guard message.header.opcode == .query else {
            var response = errorResponse(to: header, code: .notImplemented, questions: message.questions)
            response.edns = responseEDNS
            return (response, maxSize)
        }
        guard message.questions.count == 1, message.answers.isEmpty, message.authority.isEmpty else {
            var response = errorResponse(to: header, code: .formatError)
            response.edns = responseEDNS
            return (response, maxSize)
        }
        if let edns = message.edns, edns.version != 0 {
            // RFC 6891 §6.1.3: BADVERS, whose upper bits travel in our OPT record.
            var response = errorResponse(to: header, code: .noError, questions: message.questions)
            response.edns = EDNS(udpPayloadSize: Self.maxUDPPayload, extendedResponseCode: 1)
            return (response, maxSize)
        }
        let question = message.questions[0]
        let answer: Answer
        switch question.type {
        case .axfr, .ixfr:
            answer = Answer(responseCode: .notImplemented, authoritative: false)
        default:
            answer = catalog.answer(question)
        }
        var responseHeader = DNSHeader(id: header.id)
        responseHeader.isResponse = true
        responseHeader.opcode = .query
        responseHeader.recursionDesired = header.recursionDesired
        responseHeader.checkingDisabled = header.checkingDisabled
        responseHeader.isAuthoritative = answer.authoritative
        responseHeader.responseCode = answer.responseCode
        let response = DNSMessage(
            header: responseHeader, questions: [question], answers: answer.answers,
            authority: answer.authority, additional: answer.additional, edns: responseEDNS)
        return (response, maxSize)
    }

    private func limit(for edns: EDNS?, over transport: DNSTransport) -> Int {
        Self.responseLimit(over: transport, clientPayloadSize: edns?.udpPayloadSize)
    }

    /// The most bytes a response may take: 65535 over TCP; over UDP 512 without EDNS, else the
    /// client's EDNS payload size kept between 512 and ours.
    static func responseLimit(over transport: DNSTransport, clientPayloadSize: UInt16?) -> Int {
        switch transport {
        case .tcp:
            return 65535
        case .udp:
            guard let clientPayloadSize else { return classicUDPLimit }
            return Int(min(max(clientPayloadSize, 512), maxUDPPayload))
        }
    }

    private func errorResponse(to header: DNSHeader, code: ResponseCode, questions: [DNSQuestion] = []) -> DNSMessage {
        var responseHeader = DNSHeader(id: header.id)
        responseHeader.isResponse = true
        responseHeader.opcode = header.opcode
        responseHeader.recursionDesired = header.recursionDesired
        responseHeader.responseCode = code
        return DNSMessage(header: responseHeader, questions: questions)
    }
}

/// The byte-copying paths for one published catalog: its compiled answers, then this thread's
/// response cache. A struct of two references, so handing it out per batch allocates nothing.
struct CopyingResponder: DNSBatchResponder {
    let published: PublishedCatalog
    let cache: ResponseCache?

    func respond(to query: UnsafeRawBufferPointer, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let parsed = PlainQuery(query, transport: transport) else { return nil }
        return respond(to: query, parsed, into: output)
    }

    func respond(to query: UnsafeRawBufferPointer, _ parsed: PlainQuery, into output: UnsafeMutableRawBufferPointer) -> Int? {
        if let written = published.compiled?.respond(to: query, parsed, into: output) { return written }
        return cache?.respond(to: query, parsed, catalog: published.catalog, into: output)
    }

    func prefetchAnswer(for query: UnsafeRawBufferPointer) -> Int {
        guard let compiled = published.compiled, let (_, nameHash) = PlainQuery.scanName(query) else { return 0 }
        return compiled.prefetchSlot(nameHash: nameHash)
    }

    func prefetchAnswer(token: Int) {
        guard token != 0 else { return }
        published.compiled?.prefetchEntry(token: token)
    }
}
