import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// A request the fake served, so a test can tell what its client did (how many lists, from which
/// resourceVersion it watched).
public struct APIRequest: Sendable, CustomStringConvertible {
    public let method: String
    public let path: String
    public let query: [String: String]
    /// The HTTP status the request was answered with (200 for a watch, even one that then ends
    /// with an ERROR event).
    public let status: Int
    /// Who the request was authenticated as: the CN of a verified client certificate,
    /// `bearer-token` for the token, nil for an anonymous request.
    public var user: String? = nil

    public var isWatch: Bool { query["watch"] == "1" || query["watch"] == "true" }
    public var description: String {
        let query = self.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        return "\(method) \(path)\(query.isEmpty ? "" : "?" + query) → \(status)"
    }
}

/// An open watch: its connection and what it follows.
struct OpenWatch: Sendable {
    let channel: any Channel
    let resource: ServedResource
    let namespace: String?
}

/// Everything the connections share, behind one lock: the store, the token, the open watches.
/// Writes to watch connections are queued on their event loops while the lock is held, so every
/// watch sees events in revision order and nothing in a channel pipeline runs under the lock.
final class APIState: Sendable {
    private struct Locked {
        var store: ObjectStore
        var token: String
        var watches: [Int: OpenWatch] = [:]
        var nextWatchID = 1
        var requests: [APIRequest] = []
    }

    private let locked: Mutex<Locked>
    let bookmarkInterval: TimeAmount
    private static let requestLogLimit = 10_000

    init(token: String, historyLimit: Int, bookmarkInterval: TimeAmount) {
        locked = Mutex(Locked(store: ObjectStore(historyLimit: historyLimit), token: token))
        self.bookmarkInterval = bookmarkInterval
    }

    var token: String {
        get { locked.withLock { $0.token } }
        set { locked.withLock { $0.token = newValue } }
    }

    var revision: UInt64 { locked.withLock { $0.store.revision } }

    var requests: [APIRequest] { locked.withLock { $0.requests } }

    func log(_ request: APIRequest) {
        locked.withLock {
            $0.requests.append(request)
            if $0.requests.count > Self.requestLogLimit { $0.requests.removeFirst($0.requests.count - Self.requestLogLimit) }
        }
    }

    func withStore<T>(_ body: (inout ObjectStore) throws -> T) rethrows -> T {
        try locked.withLock { try body(&$0.store) }
    }

    // MARK: Writes, published to the open watches

    /// Applies `objects` one write each, under one hold of the lock.
    func upsert(_ objects: [[String: Any]]) throws {
        try locked.withLock { state in
            for object in objects {
                let event = try state.store.upsert(object)
                Self.publish(event, to: state.watches)
            }
        }
    }

    @discardableResult
    func delete(_ resource: ServedResource, namespace: String, name: String) -> Bool {
        locked.withLock { state in
            guard let event = state.store.delete(resource, namespace: namespace, name: name) else { return false }
            Self.publish(event, to: state.watches)
            return true
        }
    }

    private static func publish(_ event: StoredEvent, to watches: [Int: OpenWatch]) {
        var line: Data?
        for watch in watches.values where watch.resource == event.resource && (watch.namespace == nil || watch.namespace == event.object.namespace) {
            if line == nil { line = KubernetesJSON.eventLine(event) }
            send(line!, to: watch.channel)
        }
    }

    // MARK: Watches

    /// Registers a watch whose response head was sent, and queues the events it starts with. An
    /// expired resourceVersion queues the ERROR event and the end of the response instead; nil then.
    func openWatch(channel: any Channel, resource: ServedResource, namespace: String?, from resourceVersion: UInt64?) -> Int? {
        locked.withLock { state in
            do throws(APIError) {
                let events = try state.store.eventsForWatch(resource, namespace: namespace, from: resourceVersion)
                let id = state.nextWatchID
                state.nextWatchID += 1
                state.watches[id] = OpenWatch(channel: channel, resource: resource, namespace: namespace)
                for event in events { Self.send(KubernetesJSON.eventLine(event), to: channel) }
                return id
            } catch {
                Self.send(KubernetesJSON.errorLine(error), to: channel)
                Self.end(channel)
                return nil
            }
        }
    }

    /// Sends a BOOKMARK at the current revision; false once the watch has ended.
    func bookmark(_ id: Int) -> Bool {
        locked.withLock { state in
            guard let watch = state.watches[id] else { return false }
            Self.send(KubernetesJSON.bookmarkLine(watch.resource, revision: state.store.revision), to: watch.channel)
            return true
        }
    }

    enum WatchEnd {
        /// The response ends cleanly, as at `timeoutSeconds`.
        case finish
        /// An ERROR event with this Status, then the end.
        case error(APIError)
        /// The connection is closed mid-stream, as when the server restarts.
        case drop
        /// The connection is already gone.
        case gone
    }

    func endWatch(_ id: Int, _ how: WatchEnd) {
        locked.withLock { state in
            guard let watch = state.watches.removeValue(forKey: id) else { return }
            Self.end(watch, how)
        }
    }

    func endAllWatches(_ how: WatchEnd) {
        locked.withLock { state in
            for watch in state.watches.values { Self.end(watch, how) }
            state.watches.removeAll()
        }
    }

    /// Compacts the history and ends every open watch with a 410 ERROR event.
    func expireWatches() {
        locked.withLock { state in
            state.store.compact()
            let error = APIError.expired("too old resource version: the watch cache was compacted at \(state.store.revision)")
            for watch in state.watches.values { Self.end(watch, .error(error)) }
            state.watches.removeAll()
        }
    }

    var openWatchCount: Int { locked.withLock { $0.watches.count } }

    private static func end(_ watch: OpenWatch, _ how: WatchEnd) {
        switch how {
        case .finish: end(watch.channel)
        case .error(let error):
            send(KubernetesJSON.errorLine(error), to: watch.channel)
            end(watch.channel)
        case .drop:
            let channel = watch.channel
            channel.eventLoop.execute { channel.close(promise: nil) }
        case .gone: break
        }
    }

    private static func send(_ bytes: Data, to channel: any Channel) {
        channel.eventLoop.execute {
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
        }
    }

    private static func end(_ channel: any Channel) {
        channel.eventLoop.execute {
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        }
    }
}
