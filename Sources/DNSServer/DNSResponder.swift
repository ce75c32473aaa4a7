import DNSWire
import NIOCore
import ServiceRegistry

/// Which link of the answer chain wrote a response: a field of the debug log now, a metric label
/// once metrics exist. Tests assert it, so a test of a fast path knows the fast path answered.
public enum AnswerPath: String, Sendable, CaseIterable {
    /// Bytes the zones compiled when the catalog was published (`AnswerTable`).
    case answerTable = "table"
    /// Bytes this thread encoded for the same question earlier (`ResponseCache`).
    case cache
    /// The catalog asked and its answer encoded for this query.
    case general
    /// A query the in-place view does not take, decoded strictly: its errors (FORMERR, NOTIMP,
    /// BADVERS) and the rare valid query of an unusual shape.
    case strict
    /// Over the client's response rate: a truncated answer that sends it to TCP (`ResponseRateLimit`).
    case rateLimited = "rrl"
    /// A name outside every zone (or an ExternalName's target outside them), answered from the
    /// forwarder's cache of upstream answers.
    case forwardCache = "forward-cache"
    /// A name outside every zone sent upstream: the response comes later, through the
    /// transport's `DeferredReply`; nothing is written now.
    case forwarded = "forward"
    /// NXDOMAIN for the first search-path expansion turned into a CNAME to the first later one
    /// that exists, for a client whose namespace is known (`--autopath`).
    case autopath
}

/// A response written into a transport's buffer.
public struct DNSResponse: Sendable, Equatable {
    /// Bytes written, without any TCP length prefix.
    public var length: Int
    public var path: AnswerPath

    public init(length: Int, path: AnswerPath) {
        self.length = length
        self.path = path
    }

    /// Nothing to send now: the response goes out later through the transport's `DeferredReply`.
    public var isDeferred: Bool { path == .forwarded }
}

/// The way back to a client for a response written later, from another thread: what a transport
/// hands the pipeline for a query it cannot answer at once (a forwarded one). Made only when a
/// query needs it, so the answers of cluster names never pay for it.
public struct DeferredReply: Sendable {
    private let deliver: @Sendable (ByteBuffer) -> Void

    /// - Parameter deliver: sends a response (without any TCP length) to the client.
    public init(_ deliver: @escaping @Sendable (ByteBuffer) -> Void) {
        self.deliver = deliver
    }

    /// Sends `response` to the client; called once per deferred query.
    public func send(_ response: ByteBuffer) {
        deliver(response)
    }
}

/// The one thing transports ask of the layers above: turn the bytes of one query into the bytes
/// of one response, written into the transport's own buffer. The transport never knows what a
/// Service is; the responder never sees a socket.
public protocol DNSResponder: Sendable {
    /// A responder fixed for a batch of queries: it reads the shared state (the published catalog,
    /// this thread's cache) once, so per-query work reads none. The UDP batch engine takes one per
    /// `recvmmsg`; one query alone takes one through `respond`.
    func batch() -> any DNSBatchResponder
    /// Whether answered queries are counted (`DNSBatchResponder.record`): without metrics the
    /// transports do not even read the clock.
    var countsQueries: Bool { get }
    /// Whether NXDOMAIN responses are worth `autopath`: transports then find the client's address.
    var autopaths: Bool { get }
    /// Counts a deferred query when its response is sent, from whichever thread sends it.
    func recordDeferred(_ query: QueryObservation)
    /// The messages answering an AXFR or IXFR query over TCP from `client`; nil leaves the query
    /// to `batch()` like any other. Called away from the event loop: it may list a whole zone.
    func transferResponse(to query: ByteBuffer, from client: IPAddress?) -> TransferMessages?
}

extension DNSResponder {
    public var countsQueries: Bool { false }

    public var autopaths: Bool { false }

    public func recordDeferred(_ query: QueryObservation) {}

    public func transferResponse(to query: ByteBuffer, from client: IPAddress?) -> TransferMessages? { nil }

    /// `later` wrapped so that the response it sends is counted: what a transport hands the
    /// pipeline for its deferred replies. `started` is when the query was read.
    public func counting(
        _ later: DeferredReply, transport: DNSTransport, isIPv6: Bool, questionType: UInt16?, requestBytes: Int, started: UInt64
    ) -> DeferredReply {
        guard countsQueries else { return later }
        return DeferredReply { [self] response in
            later.send(response)
            recordDeferred(QueryObservation(
                transport: transport, isIPv6: isIPv6, questionType: questionType, requestBytes: requestBytes, responseBytes: response.readableBytes,
                responseCode: response.getInteger(at: response.readerIndex + 3, as: UInt8.self).map { $0 & 0x0F } ?? 2,
                path: .forwarded, nanoseconds: monotonicNanoseconds() &- started))
        }
    }

    /// One query: see `DNSBatchResponder.respond`.
    public func respond(to query: UnsafeRawBufferPointer, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> DNSResponse? {
        batch().respond(to: query, over: transport, into: output)
    }

    /// One query, answered and counted: what the NIO transports do per query.
    func respondCounting(
        to query: UnsafeRawBufferPointer, over transport: DNSTransport, isIPv6: Bool, client: () -> IPAddress?,
        into output: UnsafeMutableRawBufferPointer, respond: (any DNSBatchResponder, ReadQuery) -> DNSResponse?
    ) -> DNSResponse? {
        let start = countsQueries ? monotonicNanoseconds() : 0
        let batch = batch()
        let read = batch.read(query, over: transport)
        guard var response = respond(batch, read) else { return nil }
        if autopaths { response = batch.autopathing(response, to: query, read, client: client, over: transport, into: output) }
        guard countsQueries, !response.isDeferred else { return response }
        batch.record(QueryObservation(
            transport: transport, isIPv6: isIPv6, questionType: read.view?.type, requestBytes: query.count,
            responseBytes: response.length, responseCode: output[3] & 0x0F, path: response.path,
            nanoseconds: monotonicNanoseconds() &- start))
        return response
    }

    /// One query from a NIO channel, into a new buffer of `transport.largestResponse` bytes after
    /// `prefix` bytes left for the caller (TCP's length). `later` is asked for the way back only
    /// when the response is deferred (`DNSResponse.isDeferred`; the buffer is then empty).
    /// Counted, unless deferred: a deferred response is counted when sent (`recordDeferred`).
    public func respond(
        to query: ByteBuffer, over transport: DNSTransport, isIPv6: Bool = false, client: () -> IPAddress? = { nil },
        allocator: ByteBufferAllocator, prefix: Int = 0, later: () -> DeferredReply? = { nil }
    ) -> (ByteBuffer, DNSResponse)? {
        allocator.response(to: query, over: transport, prefix: prefix) { bytes, output in
            respondCounting(to: bytes, over: transport, isIPv6: isIPv6, client: client, into: output) { batch, read in
                batch.respond(to: bytes, read, over: transport, into: output, later: later)
            }
        }
    }
}

extension ByteBufferAllocator {
    /// A new buffer of `transport.largestResponse` bytes after `prefix`, filled by `write` from the
    /// query's bytes: how both NIO transports get their responses. A TCP response much smaller than
    /// its 64 KiB buffer is copied into one of its size, so queued responses do not each hold
    /// 64 KiB; a UDP buffer is small enough to send as it is.
    func response(
        to query: ByteBuffer, over transport: DNSTransport, prefix: Int,
        _ write: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) -> DNSResponse?
    ) -> (ByteBuffer, DNSResponse)? {
        var buffer = self.buffer(capacity: prefix + transport.largestResponse)
        buffer.moveWriterIndex(forwardBy: prefix)
        var response: DNSResponse?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: transport.largestResponse) { output in
            response = query.withUnsafeReadableBytes { write($0, output) }
            return response?.length ?? 0
        }
        guard let response else { return nil }
        if buffer.capacity - buffer.readableBytes > 16 * 1024 {
            return (self.buffer(buffer: buffer), response)
        }
        return (buffer, response)
    }
}

/// A query as a batch responder read it: once, before any query of the batch is answered.
public struct ReadQuery: Sendable {
    /// The query read in place; nil when the view does not take it (the strict decoder will).
    public var view: DNSQueryView?
    /// For the second prefetch step; 0 for none.
    public var prefetchToken: Int

    public init(view: DNSQueryView?, prefetchToken: Int = 0) {
        self.view = view
        self.prefetchToken = prefetchToken
    }
}

/// A responder fixed for one batch of queries. The UDP batch engine reads every query of a batch
/// first (`read`, which parses it and starts fetching its answer's memory), then finishes the
/// fetches (`prefetch`), then answers each (`respond`), so the memory of all the answers is
/// fetched at once instead of one cache miss after another, and no query is parsed twice.
public protocol DNSBatchResponder {
    func read(_ query: UnsafeRawBufferPointer, over transport: DNSTransport) -> ReadQuery
    /// The second prefetch step: hints only.
    func prefetch(_ read: ReadQuery)
    /// Writes the response to `query`, read as `read`, into `output`, which holds at least
    /// `transport.largestResponse` bytes; nil means the query is dropped (unreadable header, or a
    /// message that is itself a response).
    func respond(to query: UnsafeRawBufferPointer, _ read: ReadQuery, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> DNSResponse?
    /// Counts a query the transport answered (and sent) for the metrics.
    func record(_ query: QueryObservation)
    /// With `--autopath`, the response for `client` to a query the chain answered NXDOMAIN when
    /// its name is the first search-path expansion of the client's namespace; nil keeps it.
    func autopath(
        to query: UnsafeRawBufferPointer, _ read: ReadQuery, client: IPAddress, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer
    ) -> DNSResponse?
    /// `respond`, for a transport that can send a response later: `later` gives the way back to
    /// this client, asked only when the response is deferred (`DNSResponse.isDeferred`).
    func respond(
        to query: UnsafeRawBufferPointer, _ read: ReadQuery, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer,
        later: () -> DeferredReply?
    ) -> DNSResponse?
}

extension DNSBatchResponder {
    public func read(_ query: UnsafeRawBufferPointer, over transport: DNSTransport) -> ReadQuery {
        ReadQuery(view: DNSQueryView(query, transport: transport))
    }

    public func prefetch(_ read: ReadQuery) {}

    public func record(_ query: QueryObservation) {}

    public func autopath(
        to query: UnsafeRawBufferPointer, _ read: ReadQuery, client: IPAddress, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer
    ) -> DNSResponse? { nil }

    /// `response`, or autopath's in its place when it was NXDOMAIN and autopath has a better one.
    /// `client` is asked only then.
    func autopathing(
        _ response: DNSResponse, to query: UnsafeRawBufferPointer, _ read: ReadQuery, client: () -> IPAddress?, over transport: DNSTransport,
        into output: UnsafeMutableRawBufferPointer
    ) -> DNSResponse {
        guard !response.isDeferred, response.length > 3, output[3] & 0x0F == ResponseCode.nameError.rawValue, let client = client(),
            let better = autopath(to: query, read, client: client, over: transport, into: output)
        else { return response }
        return better
    }

    /// A responder that never defers answers every query at once.
    public func respond(
        to query: UnsafeRawBufferPointer, _ read: ReadQuery, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer,
        later: () -> DeferredReply?
    ) -> DNSResponse? {
        respond(to: query, read, over: transport, into: output)
    }

    /// One query, read and answered.
    public func respond(to query: UnsafeRawBufferPointer, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> DNSResponse? {
        respond(to: query, read(query, over: transport), over: transport, into: output)
    }
}
