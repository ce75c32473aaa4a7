import Foundation
import NIOCore
import Synchronization

/// The gRPC connections of one client: at most one in use per member, shared by the pages of a
/// list (and by the next page fetched while one is decoded), replaced after
/// `GRPCRangeConnection.maximumCalls` calls or any transport failure, and closed once the calls
/// already on a replaced one are done. A connection idle for `idleTimeout` closes itself.
final class GRPCRangeConnections: Sendable {
    private struct Lease {
        let connection: GRPCRangeConnection
        var calls = 1
        var inFlight = 1
        var retired = false
    }

    private struct State {
        var leases: [ObjectIdentifier: Lease] = [:]
        var current: [String: ObjectIdentifier] = [:]
        /// Members that answered the HTTP/2 preface with something else, and when: asked through
        /// the gateway for `notGRPCPause`.
        var notGRPC: [String: ContinuousClock.Instant] = [:]
        var loggedNotGRPC: Set<String> = []
        var shutDown = false
        /// What this client did so far, for tests and logs.
        var statistics = Statistics()
    }

    struct Statistics: Sendable, Equatable {
        var connections = 0
        var calls = 0
    }

    private let state = Mutex(State())
    private let group: any EventLoopGroup

    init(group: any EventLoopGroup) {
        self.group = group
    }

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// How long a member that did not speak gRPC is asked through the gateway before gRPC is
    /// tried again (a proxy in front of it may change).
    static let notGRPCPause: Duration = .seconds(600)

    /// Whether `endpoint` lately did not speak gRPC.
    func isKnownNotGRPC(_ endpoint: String) -> Bool {
        state.withLock { state in
            state.notGRPC[endpoint].map { ContinuousClock.now - $0 < Self.notGRPCPause } ?? false
        }
    }

    /// Remembers that `endpoint` does not speak gRPC; true the first time (to log it once).
    func markNotGRPC(_ endpoint: String) -> Bool {
        state.withLock { state in
            state.notGRPC[endpoint] = ContinuousClock.now
            return state.loggedNotGRPC.insert(endpoint).inserted
        }
    }

    /// Runs `body` with a connection to `endpoint` (`http://host:port`), connecting within
    /// `connectTimeout` when there is none to reuse.
    func withConnection<T>(
        to endpoint: String, connectTimeout: Duration, _ body: (GRPCRangeConnection) async throws(GRPCFailure) -> T
    ) async throws(GRPCFailure) -> T {
        let connection = try await lease(endpoint, connectTimeout: connectTimeout)
        do {
            let result = try await body(connection)
            release(connection, broken: false)
            return result
        } catch {
            // An etcd answer (compacted, no leader...) leaves the connection as good as it was.
            if case .etcd(let etcd) = error, etcd.grpcCode != nil {
                release(connection, broken: false)
            } else {
                release(connection, broken: true)
            }
            throw error
        }
    }

    private func lease(_ endpoint: String, connectTimeout: Duration) async throws(GRPCFailure) -> GRPCRangeConnection {
        let reused: GRPCRangeConnection? = try state.withLock { state throws(GRPCFailure) in
            guard !state.shutDown else { throw .etcd(EtcdError(.unavailable, "the client is shut down")) }
            guard let id = state.current[endpoint], var lease = state.leases[id] else { return nil }
            if lease.connection.isActive, lease.calls < GRPCRangeConnection.maximumCalls {
                lease.calls += 1
                lease.inFlight += 1
                state.leases[id] = lease
                state.statistics.calls += 1
                return lease.connection
            }
            state.current[endpoint] = nil
            Self.retire(id, in: &state)
            return nil
        }
        if let reused { return reused }
        guard let url = URLComponents(string: endpoint), url.scheme == "http", let host = url.host, !host.isEmpty else {
            throw .notGRPC("\(endpoint) is not a cleartext http:// URL")
        }
        let connection = try await GRPCRangeConnection.connect(
            host: host, port: url.port ?? 80, timeout: connectTimeout, idleTimeout: Self.idleTimeout, group: group)
        let kept = state.withLock { state in
            guard !state.shutDown else { return false }
            let id = ObjectIdentifier(connection)
            var lease = Lease(connection: connection)
            state.statistics.connections += 1
            state.statistics.calls += 1
            // Another call connected meanwhile: that one stays, this one serves this call only.
            if state.current[endpoint] == nil {
                state.current[endpoint] = id
            } else {
                lease.retired = true
            }
            state.leases[id] = lease
            return true
        }
        guard kept else {
            connection.close()
            throw .etcd(EtcdError(.unavailable, "the client is shut down"))
        }
        return connection
    }

    /// How long an unused connection stays open: a list's pages follow each other within
    /// milliseconds, and the next list may come hours later.
    static let idleTimeout: TimeAmount = .seconds(30)

    private func release(_ connection: GRPCRangeConnection, broken: Bool) {
        state.withLock { state in
            let id = ObjectIdentifier(connection)
            guard var lease = state.leases[id] else { return }
            lease.inFlight -= 1
            state.leases[id] = lease
            if broken || lease.calls >= GRPCRangeConnection.maximumCalls {
                if let endpoint = state.current.first(where: { $0.value == id })?.key { state.current[endpoint] = nil }
                Self.retire(id, in: &state)
            } else if lease.retired {
                Self.retire(id, in: &state)
            }
        }
    }

    /// Marks a connection retired, and closes it when no call is on it.
    private static func retire(_ id: ObjectIdentifier, in state: inout State) {
        guard var lease = state.leases[id] else { return }
        lease.retired = true
        if lease.inFlight == 0 {
            state.leases[id] = nil
            lease.connection.close()
        } else {
            state.leases[id] = lease
        }
    }

    /// Closes every connection and waits until they are closed; a call still on one fails as
    /// unavailable.
    func shutdown() async {
        let connections = state.withLock { state in
            state.shutDown = true
            state.current = [:]
            defer { state.leases = [:] }
            return state.leases.values.map(\.connection)
        }
        for connection in connections {
            try? await connection.channel.close()
        }
    }
}
