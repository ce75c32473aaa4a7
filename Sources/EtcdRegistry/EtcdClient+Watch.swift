import AsyncHTTPClient
import Foundation
import NIOCore
import ServiceRegistry
import Synchronization

extension EtcdClient {
    /// Watches every key under `prefix` from `revision` on, on one member (the preferred one).
    ///
    /// The stream ends with an error, never quietly: the member closed it or died (`.unavailable`),
    /// lost its leader (`.noLeader`: the request carries `Grpc-Metadata-Hasleader: true`, so a
    /// member cut off from the quorum ends the watch instead of going silent), stopped answering
    /// (`.timeout`), or the revision was compacted away (`.compacted`: relist). When the watch has
    /// been quiet for `progressInterval`, its member is asked a linearizable read, so a member that
    /// died silently or lost its quorum is noticed within a few seconds. The caller re-watches from
    /// its last revision + 1; the failed member is no longer preferred.
    ///
    /// The request body is sent whole: AsyncHTTPClient hands over no response while a streamed
    /// request body is still open, so etcd's bidirectional watch (progress requests on the open
    /// body) cannot be used through it.
    public func watch(prefix: String, from revision: Int64, progressInterval: Duration = .seconds(2)) -> AsyncThrowingStream<EtcdWatchMessage, any Error> {
        let endpoint = endpoints.current
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: EtcdWatchMessage.self)
        let task = Task {
            do {
                try await self.runWatch(endpoint: endpoint, prefix: prefix, from: revision, progressInterval: progressInterval, continuation: continuation)
            } catch var error as EtcdError {
                error.endpoint = endpoint
                if error.isRetryable { self.endpoints.failed(endpoint) }
                continuation.finish(throwing: error)
            } catch {
                self.endpoints.failed(endpoint)
                continuation.finish(throwing: EtcdError(.unavailable, "\(error)", endpoint: endpoint))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func runWatch(
        endpoint: String, prefix: String, from revision: Int64, progressInterval: Duration,
        continuation: AsyncThrowingStream<EtcdWatchMessage, any Error>.Continuation
    ) async throws {
        let create = WireWatchCreate(createRequest: .init(
            key: Base64.encode(prefix), rangeEnd: Base64.encode(Self.prefixEnd(prefix)),
            startRevision: WireInt(revision), progressNotify: true))
        var createLine = try WireCoding.encoder().encode(create)
        createLine.append(UInt8(ascii: "\n"))
        let probe = try WireCoding.encoder().encode(WireRangeRequest(key: Base64.encode(prefix), limit: 1, keysOnly: true))

        let request = {
            var request = HTTPClientRequest(url: endpoint + "/v3/watch")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Grpc-Metadata-Hasleader", value: "true")
            request.body = .bytes(ByteBuffer(bytes: createLine))
            return request
        }()
        let lastHeard = LastHeard()

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let response: HTTPClientResponse
                do {
                    response = try await self.http.execute(request, timeout: .hours(24))
                } catch {
                    throw EtcdError(.unavailable, "cannot open a watch: \(error)")
                }
                guard response.status == .ok else {
                    let collected = try await response.body.collect(upTo: 1 << 20)
                    throw Self.error(status: response.status, body: Data(collected.readableBytesView))
                }
                var lines = StreamedLines()
                for try await chunk in response.body {
                    lines.append(chunk.readableBytesView)
                    while let line = lines.next() {
                        lastHeard.now()
                        if let message = try Self.watchMessage(line) {
                            continuation.yield(message)
                        }
                    }
                }
                throw EtcdError(.unavailable, "the member ended the watch")
            }
            group.addTask {
                // An idle watch says nothing (etcd's own progress notifications come every 10 min
                // by default), so when it has been quiet for an interval, ask its member a
                // linearizable read: one that fails (dead, partitioned, no leader) ends the watch.
                while true {
                    try await Task.sleep(for: progressInterval)
                    guard lastHeard.silence >= progressInterval else { continue }
                    do {
                        let _: WireRangeResponse = try await self.once(endpoint + "/v3/kv/range", body: probe)
                        lastHeard.now()
                    } catch {
                        throw EtcdError(.timeout, "the watch was quiet for \(lastHeard.silence) and its member does not answer (\(error))")
                    }
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// One line of a watch stream as a message; nil for a line that says nothing to act on.
    static func watchMessage(_ line: Data) throws(EtcdError) -> EtcdWatchMessage? {
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return nil }
        let decoded: WireWatchLine
        do { decoded = try WireCoding.decoder().decode(WireWatchLine.self, from: line) } catch {
            throw EtcdError(.malformedResponse, "cannot read a watch message (\(error)): \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        if let failure = decoded.error {
            throw error(grpcCode: failure.grpcCode, httpStatus: failure.httpCode, message: failure.message ?? "the watch failed")
        }
        guard let result = decoded.result else { return nil }
        let revision = result.header?.revision?.value ?? 0
        if result.canceled == true {
            if let compacted = result.compactRevision?.value, compacted > 0 {
                throw EtcdError(.compacted, "the revisions asked for were compacted (history starts after \(compacted))")
            }
            throw EtcdError(.rejected, "the watch was canceled: \(result.cancelReason ?? "no reason given")")
        }
        if result.created == true { return .created(revision: revision) }
        guard let events = result.events, !events.isEmpty else { return .progress(revision: revision) }
        var changes: [EtcdWatchEvent] = []
        changes.reserveCapacity(events.count)
        for event in events {
            guard let kv = try event.kv?.decoded() else { continue }
            if event.type == "DELETE" {
                changes.append(.delete(key: kv.key, modRevision: kv.modRevision))
            } else {
                changes.append(.put(kv))
            }
        }
        return .events(changes, revision: revision)
    }
}

/// When a watch last heard from its member, shared by the reader and the stall check.
private final class LastHeard: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    func now() { instant.withLock { $0 = .now } }

    var silence: Duration { ContinuousClock.now - instant.withLock { $0 } }
}
