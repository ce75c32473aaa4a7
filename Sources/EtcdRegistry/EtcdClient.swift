import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A client of etcd's v3 JSON gateway (grpc-gateway over HTTP/1.1) with AsyncHTTPClient, with
/// list pages over native gRPC (`rangeOverGRPC`).
///
/// The gateway for everything but list pages: etcd 3.4's server pings after every request it
/// receives, and swift-nio-http2 closes a connection after 200 pings in 30 s, killing every ~198th
/// call on a long-lived connection (see `shared/research/etcd-registry.md`). List pages are the
/// exception: serving them as JSON costs etcd seven times the CPU of protobuf, so they go over
/// short-lived gRPC connections (`GRPCRangeConnections`). This module is apart from
/// `ServiceRegistry` so the HTTP stack (NIO SSL, HTTP/2) never reaches the core or the tests that
/// do not need it.
///
/// Every unary call has a short timeout and is retried on the next member when a member is
/// unreachable, times out, or has no leader; what etcd refuses is thrown at once.
public final class EtcdClient: Sendable {
    public struct Configuration: Sendable {
        /// How long one member may take to answer one request (an election stalls writes ~1.5 s).
        public var requestTimeout: Duration = .seconds(1)
        /// How long a call keeps trying members before it gives up.
        public var retryBudget: Duration = .seconds(10)
        /// Keys a list page holds. Large: etcd 3.4 walks the index of every key left in the range
        /// for each page before cutting it at the limit (and counts them), so 121k keys in pages of
        /// 2000 cost etcd 1.87 s of CPU, in pages of 10,000 0.75 s, in one range 0.6 s. A page of
        /// 10,000 small objects is a few megabytes, still decoded while the next is fetched.
        public var pageSize = 10_000
        /// How long one member may take to answer a page of a list (a few megabytes).
        public var pageTimeout: Duration = .seconds(10)
        /// List pages over etcd's native gRPC (`KV/Range`) rather than the JSON gateway: the
        /// gateway's JSON and base64 cost etcd about seven times the CPU for the same keys.
        public var listsOverGRPC = true

        public init() {}
    }

    let endpoints: EtcdEndpoints
    public let configuration: Configuration
    let http: HTTPClient
    let grpc: GRPCRangeConnections
    let logger: Logger

    /// - Parameter endpoints: member URLs, `http://127.0.0.1:2379`.
    public init(endpoints: [String], configuration: Configuration = .init(), logger: Logger = Logger(label: "etcd")) {
        precondition(!endpoints.isEmpty, "an etcd client needs at least one endpoint")
        self.endpoints = EtcdEndpoints(endpoints)
        self.configuration = configuration
        self.logger = logger
        var http = HTTPClient.Configuration(timeout: .init(connect: .milliseconds(500)))
        http.httpVersion = .http1Only
        http.connectionPool = .init(idleTimeout: .seconds(30))
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        self.grpc = GRPCRangeConnections(group: HTTPClient.defaultEventLoopGroup)
    }

    public var endpointURLs: [String] { endpoints.urls }

    /// Closes every connection; call once, when done.
    public func shutdown() async {
        await grpc.shutdown()
        try? await http.shutdown()
    }

    // MARK: KV

    /// Reads one key (linearizable, or from the member alone when `serializable`).
    public func get(_ key: String, serializable: Bool = false) async throws(EtcdError) -> (EtcdKeyValue?, revision: Int64) {
        let range = try await range(key: key, rangeEnd: nil, limit: nil, revision: nil, serializable: serializable)
        return (range.keyValues.first, range.revision)
    }

    /// One page of the keys under `prefix`, from `after` (exclusive) on, at `revision` (0: now).
    public func range(prefix: String, after: String? = nil, limit: Int, revision: Int64 = 0, serializable: Bool = false) async throws(EtcdError) -> EtcdRange {
        let start = after.map { $0 + "\0" } ?? prefix
        guard configuration.listsOverGRPC else {
            return try await range(key: start, rangeEnd: Self.prefixEnd(prefix), limit: limit, revision: revision, serializable: serializable)
        }
        return try await rangeOverGRPC(key: start, rangeEnd: Self.prefixEnd(prefix), limit: limit, revision: revision, serializable: serializable)
    }

    /// Every key under `prefix`, page by page, all read at the revision of the first page: one
    /// snapshot, however many pages.
    public func list(prefix: String, serializable: Bool = false) async throws(EtcdError) -> EtcdRange {
        var page = try await range(prefix: prefix, limit: configuration.pageSize, serializable: serializable)
        var all = page.keyValues
        let revision = page.revision
        while page.more, let last = all.last?.key {
            page = try await range(prefix: prefix, after: last, limit: configuration.pageSize, revision: revision, serializable: serializable)
            all += page.keyValues
        }
        return EtcdRange(keyValues: all, revision: revision, more: false)
    }

    func range(key: String, rangeEnd: String?, limit: Int?, revision: Int64?, serializable: Bool) async throws(EtcdError) -> EtcdRange {
        let request = Self.gatewayRangeRequest(key: key, rangeEnd: rangeEnd, limit: limit, revision: revision, serializable: serializable)
        // A page of a list is megabytes: more time than one small request, and read by a scanner.
        let data = try await callData("/v3/kv/range", request, timeout: limit == nil ? nil : configuration.pageTimeout)
        return try Self.gatewayRange(data)
    }

    static func gatewayRangeRequest(key: String, rangeEnd: String?, limit: Int?, revision: Int64?, serializable: Bool) -> WireRangeRequest {
        WireRangeRequest(
            key: Base64.encode(key), rangeEnd: rangeEnd.map(Base64.encode), limit: limit,
            revision: revision.flatMap { $0 > 0 ? WireInt($0) : nil }, serializable: serializable ? true : nil)
    }

    static func gatewayRange(_ data: Data) throws(EtcdError) -> EtcdRange {
        if let range = RangeScanner.range(in: data) { return range }
        let response: WireRangeResponse = try Self.decode(data)
        return EtcdRange(
            keyValues: try (response.kvs ?? []).map { kv throws(EtcdError) in try kv.decoded() },
            revision: response.header?.revision?.value ?? 0, more: response.more ?? false)
    }

    /// Writes a key unconditionally; returns the revision of the write.
    @discardableResult
    public func put(_ key: String, value: [UInt8]) async throws(EtcdError) -> Int64 {
        let response: WireRevisionResponse = try await call("/v3/kv/put", WirePutRequest(key: Base64.encode(key), value: Base64.encode(bytes: value)))
        return response.header?.revision?.value ?? 0
    }

    /// Deletes a key (or every key under it, with `prefix`); returns how many went.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) async throws(EtcdError) -> Int {
        let request = WireDeleteRequest(key: Base64.encode(key), rangeEnd: prefix ? Base64.encode(Self.prefixEnd(key)) : nil)
        let response: WireRevisionResponse = try await call("/v3/kv/deleterange", request)
        return Int(response.deleted?.value ?? 0)
    }

    /// Runs `success` if every compare holds, else `failure`, atomically.
    public func txn(compare: [EtcdCompare], success: [EtcdOperation], failure: [EtcdOperation] = []) async throws(EtcdError) -> EtcdTxnResult {
        func wire(_ op: EtcdOperation) -> WireRequestOp {
            switch op {
            case .put(let key, let value):
                return WireRequestOp(requestPut: WirePutRequest(key: Base64.encode(key), value: Base64.encode(bytes: value)))
            case .delete(let key):
                return WireRequestOp(requestDeleteRange: WireDeleteRequest(key: Base64.encode(key)))
            case .get(let key):
                return WireRequestOp(requestRange: WireRangeRequest(key: Base64.encode(key)))
            }
        }
        let request = WireTxnRequest(
            compare: compare.map { compare in
                WireCompare(
                    key: Base64.encode(compare.key), target: compare.target.rawValue, result: "EQUAL",
                    modRevision: compare.target == .modRevision ? WireInt(compare.revision) : nil,
                    createRevision: compare.target == .createRevision ? WireInt(compare.revision) : nil)
            },
            success: success.map(wire), failure: failure.map(wire))
        let response: WireTxnResponse = try await call("/v3/kv/txn", request)
        var read: [EtcdKeyValue] = []
        for op in response.responses ?? [] {
            for kv in op.responseRange?.kvs ?? [] { read.append(try kv.decoded()) }
        }
        return EtcdTxnResult(succeeded: response.succeeded ?? false, revision: response.header?.revision?.value ?? 0, read: read)
    }

    /// Compacts the history up to `revision` (tests and operators; kube-apiserver does it every 5 min).
    public func compact(revision: Int64) async throws(EtcdError) {
        struct Request: Encodable { var revision: WireInt; var physical: Bool }
        let _: WireRevisionResponse = try await call("/v3/kv/compaction", Request(revision: WireInt(revision), physical: true))
    }

    /// `/registry/` → `/registry0`: the end of a prefix range (its last byte plus one).
    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\0"
    }

    // MARK: Transport

    /// POSTs `body` to `path` on the preferred member, moving to the next on a retryable failure,
    /// until one answers or the retry budget is spent.
    func call<Body: Encodable, Response: Decodable>(_ path: String, _ body: Body) async throws(EtcdError) -> Response {
        try Self.decode(try await callData(path, body))
    }

    /// `call`'s answer as it came, for a reader of its own (`RangeScanner`).
    func callData<Body: Encodable>(_ path: String, _ body: Body, timeout: Duration? = nil) async throws(EtcdError) -> Data {
        let bytes = try Self.encode(body)
        return try await withFailover { endpoint throws(EtcdError) in
            try await onceData(endpoint + path, body: bytes, timeout: timeout ?? configuration.requestTimeout)
        }
    }

    static func encode<Body: Encodable>(_ body: Body) throws(EtcdError) -> Data {
        do { return try WireCoding.encoder().encode(body) } catch {
            throw EtcdError(.rejected, "cannot encode the request: \(error)")
        }
    }

    /// Runs `attempt` on the preferred member, moving to the next on a retryable failure, until
    /// one answers or the retry budget is spent.
    func withFailover<T>(_ attempt: (String) async throws(EtcdError) -> T) async throws(EtcdError) -> T {
        let deadline = ContinuousClock.now + configuration.retryBudget
        var attempts = 0
        while true {
            let endpoint = endpoints.current
            do {
                return try await attempt(endpoint)
            } catch {
                var error = error
                error.endpoint = endpoint
                guard error.isRetryable else { throw error }
                endpoints.failed(endpoint)
                attempts += 1
                if ContinuousClock.now >= deadline || Task.isCancelled { throw error }
                logger.debug("\(error); trying \(endpoints.current)")
                // Each member once without a pause, then back off a little.
                if attempts >= endpoints.urls.count {
                    try? await Task.sleep(for: .milliseconds(min(50 * attempts, 500)))
                }
            }
        }
    }

    func once<Response: Decodable>(_ url: String, body: Data) async throws(EtcdError) -> Response {
        try Self.decode(try await onceData(url, body: body, timeout: configuration.requestTimeout))
    }

    static func decode<Response: Decodable>(_ data: Data) throws(EtcdError) -> Response {
        do {
            return try WireCoding.decoder().decode(Response.self, from: data)
        } catch {
            throw EtcdError(.malformedResponse, "cannot read the answer (\(error)): \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
    }

    func onceData(_ url: String, body: Data, timeout: Duration) async throws(EtcdError) -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let deadline = TimeAmount(timeout)
        let status: HTTPResponseStatus
        let collected: ByteBuffer
        do {
            let response = try await http.execute(request, timeout: deadline, logger: nil)
            status = response.status
            collected = try await response.body.collect(upTo: 512 * 1024 * 1024)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw EtcdError(.timeout, "no answer within \(timeout)")
        } catch {
            throw EtcdError(.unavailable, "\(error)")
        }
        let data = Data(collected.readableBytesView)
        guard status == .ok else { throw Self.error(status: status, body: data) }
        return data
    }

    /// Turns a unary error answer into an `EtcdError` by its gRPC code.
    static func error(status: HTTPResponseStatus, body: Data) -> EtcdError {
        let wire = try? WireCoding.decoder().decode(WireUnaryError.self, from: body)
        let message = wire?.message ?? wire?.error ?? "HTTP \(status.code) \(String(decoding: body.prefix(200), as: UTF8.self))"
        return error(grpcCode: wire?.code, httpStatus: Int(status.code), message: message)
    }

    static func error(grpcCode: Int?, httpStatus: Int?, message: String) -> EtcdError {
        switch grpcCode {
        case 11 where message.contains("compacted"):
            return EtcdError(.compacted, message, grpcCode: grpcCode)
        case 14 where message.contains("no leader"):
            return EtcdError(.noLeader, message, grpcCode: grpcCode)
        case 14, 4, 2:
            // Unavailable (request timed out), DeadlineExceeded, Unknown (leader changed).
            return EtcdError(.unavailable, message, grpcCode: grpcCode)
        default:
            if let httpStatus, httpStatus >= 500 { return EtcdError(.unavailable, message, grpcCode: grpcCode) }
            return EtcdError(.rejected, message, grpcCode: grpcCode)
        }
    }
}
