import DNSServer
import Logging
import Operations
import ServiceLifecycle
import ServiceRegistry

/// `serve`'s parts as the services of one swift-service-lifecycle `ServiceGroup`. On SIGTERM or
/// SIGINT (`ServeSignals`) the group shuts them down gracefully, in reverse order: the DNS listener first (its lameduck period),
/// then the registry source, then the HTTP listener, which keeps answering probes until the end.

/// The UDP and TCP listener. Graceful shutdown is the lameduck period: /ready fails at once, so the
/// Service stops sending queries here, while DNS still answers for `lameduck` seconds.
struct DNSListenerService: ServiceLifecycle.Service {
    let listener: DNSListener
    let readiness: Readiness
    let lameduck: Double
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await listener.waitUntilClosed()
            // The sockets closing is the start of the listener's shutdown: return (and let the
            // process exit) only once it has finished.
            try await listener.shutdown()
        } onGracefulShutdown: {
            readiness.beginShutdown()
            guard lameduck > 0 else {
                logger.info("shutting down")
                Task { try? await listener.shutdown() }
                return
            }
            logger.info("shutting down: not ready; answering for \(lameduck) s more (lameduck)")
            Task {
                try? await Task.sleep(for: .milliseconds(Int(lameduck * 1000)))
                logger.info("lameduck over, shutting down")
                try? await listener.shutdown()
            }
        }
    }
}

/// The manifest source's watcher: edits are patched in until shutdown. `first` runs before it
/// starts (compiling the answers), inside the group, so a signal meanwhile is not lost.
struct ManifestWatchService: ServiceLifecycle.Service {
    let source: ManifestSource
    let first: @Sendable () -> Void
    let onUpdate: @Sendable (RegistryUpdate) -> Void

    func run() async throws {
        first()
        let watching = source.startWatching(onUpdate: onUpdate)
        try? await gracefulShutdown()
        watching.stop()
    }
}

/// /metrics, /health and /ready, stopped last.
struct OperationsService: ServiceLifecycle.Service {
    let server: OperationsServer?

    func run() async throws {
        try? await gracefulShutdown()
        await server?.stop()
    }
}

/// Any other part of serve that runs until shutdown (the etcd source), cancelled on shutdown.
struct TaskService: ServiceLifecycle.Service {
    let body: @Sendable () async throws -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await body() }
    }
}

extension ServeCommand {
    /// Runs `services` after the DNS listener's until SIGTERM or SIGINT has shut them all down.
    /// `sources` are the registry's; they stop after the listener, before the HTTP listener.
    func runServiceGroup(
        dns: DNSListenerService, sources: [any ServiceLifecycle.Service], operations: OperationsServer?, running: RunningListener, logger: Logger
    ) async throws {
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            [.init(service: OperationsService(server: operations), serviceName: "operations")]
            + sources.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "registry source") }
            + [.init(service: dns, successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "DNS listener")]
        // SIGTERM and SIGINT reach the group through ServeSignals (triggerGracefulShutdown), the
        // one signal source for them: a second source of the group's own for the same signals
        // let some reach a thread where they took their default action and killed the server.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
        running.grouped(group)
        try await group.run()
    }
}
