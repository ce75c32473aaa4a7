import ClusterZones
import DNSServer
import DNSWire
import EtcdRegistry
import Foundation
import Logging
import ServiceRegistry
import Synchronization

extension ServeCommand {
    /// `serve --etcd`: the listener is up at once, and answers SERVFAIL for every name of its zones
    /// until the first complete list of etcd (a client caches NXDOMAIN; it must not learn that a
    /// Service does not exist because we have not heard of it yet). Then the source's changes are
    /// patched in as manifest changes are; while etcd is unreachable the last good registry answers.
    func serveFromEtcd(logger: Logger) async throws {
        let zoneConfiguration = try zoneConfiguration()
        let empty = RegistryStore(options: cidrs.registryOptions).snapshot
        let forwarder = try forwarding.makeForwarder(logger: logger)
        defer { forwarder?.shutdown() }
        let pipeline = QueryPipeline(
            catalog: Catalog(snapshot: empty, configuration: zoneConfiguration, awaitingRegistry: true), compiledNamesLimit: compiledNamesLimit,
            forwarder: forwarder)

        let running = RunningListener()
        let signals = ServeSignals.stopping(running, logger: logger) {
            logger.info("received SIGHUP: an etcd registry follows its watch, nothing to reload")
        }
        defer { signals.cancel() }
        let listener = try await startListener(pipeline, running: running, logger: logger)
        try await forwarding.refuseLoop(forwarder, listener: listener, logger: logger)
        logger.info("listening on \(ListenAddress(host: listener.host, port: listener.port)) (UDP and TCP); reading the registry from etcd \(etcd.endpoints.joined(separator: ",")) under \(etcd.layout.watchPrefix), SERVFAIL until it is listed")

        try await etcd.withClient(logger: logger, retryBudget: .seconds(3)) { client in
            try await follow(client: client, pipeline: pipeline, listener: listener, zoneConfiguration: zoneConfiguration, logger: logger)
        }
    }

    /// The zones' configuration from the options: the listen address is the name server's glue,
    /// unless it is a wildcard (0.0.0.0, ::).
    func zoneConfiguration() throws -> ZoneConfiguration {
        let address = ListenAddress(listen)!
        let glue = IPAddress(address.host).map { $0 == .v4(0) || $0 == .v6(high: 0, low: 0) ? [] : [$0] } ?? []
        return ZoneConfiguration(domain: try DNSName(domain), ttl: ttl, podMode: pods, nameServerAddresses: glue)
    }

    /// Binds the UDP and TCP listeners to `pipeline` and hands them to the signal handlers.
    func startListener(_ pipeline: QueryPipeline, running: RunningListener, logger: Logger) async throws -> DNSListener {
        let listener = try await DNSListener.start(
            configuration: DNSListenerConfiguration(
                address: ListenAddress(listen)!, threads: threads, udpEngine: udpEngine,
                rateLimit: responsesPerSecond.map { ResponseRateLimit(responsesPerSecond: $0, slip: slip) }),
            responder: pipeline, logger: logger)
        running.set(listener)
        return listener
    }

    /// Publishes what the source lists and watches until the listener closes.
    private func follow(client: EtcdClient, pipeline: QueryPipeline, listener: DNSListener, zoneConfiguration: ZoneConfiguration, logger: Logger) async throws {
        let source = EtcdSource(client: client, layout: etcd.layout, options: cidrs.registryOptions, logger: logger)
        let zoneDomain = zoneConfiguration.domain
        let following = Task {
            await source.run { publication in
                switch publication {
                case .synced(let snapshot, let revision):
                    let start = ContinuousClock.now
                    pipeline.publish(Catalog(snapshot: snapshot, configuration: zoneConfiguration))
                    logger.info("serving \(zoneDomain.description), in-addr.arpa., ip6.arpa. from etcd revision \(revision): \(snapshot.serviceCount) services in \(snapshot.namespaceCount) namespaces, serial \(snapshot.serial) (zones built in \((ContinuousClock.now - start).briefly))")
                    compileAnswers(pipeline, logger: logger)
                case .update(let update, let revision):
                    let start = ContinuousClock.now
                    let patched = pipeline.apply(update)
                    logger.debug("serving serial \(update.snapshot.serial) (etcd revision \(revision)): \(update.snapshot.serviceCount) services; \(patched.names) names compiled again in \((ContinuousClock.now - start).briefly)")
                }
            }
        }
        defer { following.cancel() }
        try await listener.waitUntilClosed()
        following.cancel()
        await following.value
    }
}

/// The listener a SIGTERM or SIGINT shuts down, once one is bound.
final class RunningListener: Sendable {
    private let listener = Mutex<DNSListener?>(nil)

    func set(_ listener: DNSListener) { self.listener.withLock { $0 = listener } }

    var current: DNSListener? { listener.withLock { $0 } }
}

extension ServeSignals {
    /// Signals that shut `running` down (or exit, before it is bound) and call `onReload` on SIGHUP.
    static func stopping(_ running: RunningListener, logger: Logger, onReload: @escaping @Sendable () -> Void) -> ServeSignals {
        ServeSignals(
            onShutdown: { signal in
                logger.info("received \(signal), shutting down")
                guard let listener = running.current else { Foundation.exit(0) }
                Task { try? await listener.shutdown() }
            },
            onReload: onReload)
    }
}
