import Atomics
import ClusterDNS
import DNSWire
import NIOCore
import NIOPosix

/// A catalog as an atomic reference: one pointer swap publishes a new registry.
final class PublishedCatalog: AtomicReference, Sendable {
    let catalog: Catalog
    init(_ catalog: Catalog) { self.catalog = catalog }
}

/// The per-query path: decode, ask the catalog current at that instant, encode within the
/// transport's size limit. A query reads one catalog from start to end, so answers are always
/// consistent, and publishing a new one never blocks a query.
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

    /// Makes `catalog` the one every later query sees.
    public func publish(_ catalog: Catalog) {
        current.store(PublishedCatalog(catalog), ordering: .releasing)
    }

    public func respond(to query: ByteBuffer, over transport: DNSTransport, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let catalog = self.catalog
        guard cachingEnabled else { return encodedResponse(to: query, over: transport, catalog: catalog, allocator: allocator) }
        let cache: ResponseCache
        if let existing = caches.currentValue {
            cache = existing
        } else {
            cache = ResponseCache()
            caches.currentValue = cache
        }
        let question: ResponseCache.Question?
        switch cache.lookup(query, catalog: catalog, transport: transport, allocator: allocator) {
        case .hit(let cached):
            return cached
        case .miss(let parsed):
            question = parsed
        }
        guard let buffer = encodedResponse(to: query, over: transport, catalog: catalog, allocator: allocator) else { return nil }
        if let question { cache.store(buffer, for: query, question: question) }
        return buffer
    }

    private func encodedResponse(to query: ByteBuffer, over transport: DNSTransport, catalog: Catalog, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard let (response, maxSize) = response(to: query, over: transport, catalog: catalog) else { return nil }
        var buffer = allocator.buffer(capacity: 512)
        DNSMessageEncoder.encode(response, into: &buffer, maxSize: maxSize)
        return buffer
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
        switch transport {
        case .tcp:
            return 65535
        case .udp:
            guard let edns else { return Self.classicUDPLimit }
            return Int(min(max(edns.udpPayloadSize, 512), Self.maxUDPPayload))
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
