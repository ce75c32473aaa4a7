import ClusterZones
import DNSServer
import DNSWire
import EtcdRegistry
import Foundation
import Logging
import Operations
import ServiceLifecycle
import ServiceRegistry
import Synchronization

extension ServeCommand {
    /// `serve --etcd`: etcd's registry, followed (see `serveFollowedRegistry`): listed, then
    /// watched; while etcd is unreachable the last good registry answers.
    func serveFromEtcd(logger: Logger) async throws {
        let origin = "etcd \(etcd.endpoints.joined(separator: ",")) under \(etcd.layout.watchPrefix)"
        try await serveFollowedRegistry(from: origin, logger: logger) { publisher, serve in
            try await etcd.withClient(logger: logger, retryBudget: .seconds(3)) { client in
                let source = EtcdSource(client: client, layout: etcd.layout, options: registryOptions, logger: logger)
                try await serve([
                    TaskService {
                        await source.run { publication in
                            switch publication {
                            case .synced(let snapshot, let revision): publisher.synced(snapshot, from: "etcd revision \(revision)")
                            case .update(let update, let revision): publisher.applied(update, detail: "etcd revision \(revision)")
                            }
                        }
                    }
                ])
            }
        }
    }

    /// The zones' configuration from the options: the listen address is the name server's glue,
    /// unless it is a wildcard (0.0.0.0, ::).
    func zoneConfiguration() throws -> ZoneConfiguration {
        let address = ListenAddress(listen)!
        let glue = IPAddress(address.host).map { $0 == .v4(0) || $0 == .v6(high: 0, low: 0) ? [] : [$0] } ?? []
        var configuration = ZoneConfiguration(domain: try DNSName(domain), ttl: ttl, podMode: pods, nameServerAddresses: glue)
        configuration.externalOrigins = try externalZones.map { try DNSName($0) }
        return configuration
    }

    /// Binds the UDP and TCP listeners to `pipeline` and hands them to the signal handlers.
    func startListener(_ pipeline: QueryPipeline, running: RunningListener, logger: Logger) async throws -> DNSListener {
        let listener = try await DNSListener.start(
            configuration: DNSListenerConfiguration(
                address: ListenAddress(listen)!, threads: threads, udpEngine: udpEngine,
                rateLimit: responsesPerSecond.map { ResponseRateLimit(responsesPerSecond: $0, slip: slip) }),
            responder: pipeline, logger: logger)
        running.set(listener, answering: pipeline)
        pipeline.metrics?.server = "dns://\(ListenAddress(host: listener.host, port: listener.port))"
        return listener
    }
}

extension ZoneConfiguration {
    /// The zones served, for the log: `cluster.local., in-addr.arpa., ip6.arpa.` and the external zones.
    var servedZones: String {
        ([domain.description, "in-addr.arpa.", "ip6.arpa."] + externalOrigins.map(\.description)).joined(separator: ", ")
    }
}

/// The listener a SIGTERM or SIGINT shuts down, once one is bound, and whether the service group
/// that shuts it down gracefully runs yet.
final class RunningListener: Sendable {
    private struct State {
        var listener: DNSListener?
        var pipeline: QueryPipeline?
        var group: ServiceGroup?
        var signals = 0
    }

    private let state = Mutex(State())

    func set(_ listener: DNSListener, answering pipeline: QueryPipeline) {
        state.withLock {
            $0.listener = listener
            $0.pipeline = pipeline
        }
    }

    /// What answers queries, once the listener is bound: what SIGHUP reconfigures.
    var pipeline: QueryPipeline? { state.withLock { $0.pipeline } }

    func grouped(_ group: ServiceGroup) { state.withLock { $0.group = group } }

    fileprivate enum ShutdownAction {
        case exit
        case gracefully(ServiceGroup)
        case atOnce(DNSListener)
    }

    /// What a shutdown signal does now: exit (nothing bound yet), the group's graceful shutdown
    /// (a first signal), or stop the listener at once (a second, or no group yet).
    fileprivate func onShutdownSignal() -> ShutdownAction {
        state.withLock { state in
            state.signals += 1
            // A table compiled now would never be used; the zones answer through the lameduck.
            state.pipeline?.stopCompiling()
            guard let listener = state.listener else { return .exit }
            guard let group = state.group, state.signals == 1 else { return .atOnce(listener) }
            return .gracefully(group)
        }
    }
}

extension ServeSignals {
    /// Signals for `serve`: before the listener is bound a shutdown signal exits; once the service
    /// group runs, a first one starts its graceful shutdown (the lameduck period) and a second
    /// stops the listener at once. SIGHUP calls `onReload`.
    static func stopping(_ running: RunningListener, logger: Logger, onReload: @escaping @Sendable () -> Void) -> ServeSignals {
        ServeSignals(
            onShutdown: { signal in
                switch running.onShutdownSignal() {
                case .exit:
                    logger.info("received \(signal), exiting")
                    Foundation.exit(0)
                case .gracefully(let group):
                    logger.info("received \(signal)")
                    Task { await group.triggerGracefulShutdown() }
                case .atOnce(let listener):
                    logger.info("received \(signal), shutting down at once")
                    Task { try? await listener.shutdown() }
                }
            },
            onReload: onReload)
    }
}
