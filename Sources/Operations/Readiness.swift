import Synchronization

/// What `/ready` answers: ready once every part that must be ready says so (the registry loaded,
/// each source synced), and not ready again from the moment shutdown begins, so a load balancer
/// stops sending queries while the lameduck period still answers them.
public final class Readiness: Sendable {
    private struct State {
        var waitingFor: Set<String>
        var shuttingDown = false
    }

    private let state: Mutex<State>

    /// - Parameter parts: what must be ready first, named as `/ready` lists them when not.
    public init(waitingFor parts: [String]) {
        state = Mutex(State(waitingFor: Set(parts)))
    }

    public func markReady(_ part: String) {
        state.withLock { _ = $0.waitingFor.remove(part) }
    }

    /// A part that is no longer ready (a source that lost its registry).
    public func markNotReady(_ part: String) {
        state.withLock { _ = $0.waitingFor.insert(part) }
    }

    public func beginShutdown() {
        state.withLock { $0.shuttingDown = true }
    }

    /// Whether to answer 200, and the body: "OK", "Shutting down", or what is not ready yet
    /// (sorted, comma-separated, as CoreDNS's ready plugin lists its plugins).
    public var status: (ready: Bool, body: String) {
        state.withLock { state in
            if state.shuttingDown { return (false, "Shutting down") }
            if state.waitingFor.isEmpty { return (true, "OK") }
            return (false, state.waitingFor.sorted().joined(separator: ","))
        }
    }
}
