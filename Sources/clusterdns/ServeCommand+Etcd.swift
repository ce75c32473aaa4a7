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
        let address = ListenAddress(listen)!
        let zoneDomain = try DNSName(domain)
        let glue = IPAddress(address.host).map { $0 == .v4(0) || $0 == .v6(high: 0, low: 0) ? [] : [$0] } ?? []
        let zoneConfiguration = ZoneConfiguration(domain: zoneDomain, ttl: ttl, podMode: pods, nameServerAddresses: glue)
        let empty = RegistryStore(options: cidrs.registryOptions).snapshot
        let pipeline = QueryPipeline(catalog: Catalog(snapshot: empty, configuration: zoneConfiguration, awaitingRegistry: true))

        let running = Mutex<DNSListener?>(nil)
        let signals = ServeSignals(
            onShutdown: { signal in
                logger.info("received \(signal), shutting down")
                guard let listener = running.withLock({ $0 }) else { Foundation.exit(0) }
                Task { try? await listener.shutdown() }
            },
            onReload: { logger.info("received SIGHUP: an etcd registry follows its watch, nothing to reload") })
        defer { signals.cancel() }
        let listener = try await DNSListener.start(
            configuration: DNSListenerConfiguration(
                address: address, threads: threads, udpEngine: udpEngine,
                rateLimit: responsesPerSecond.map { ResponseRateLimit(responsesPerSecond: $0, slip: slip) }),
            responder: pipeline, logger: logger)
        running.withLock { $0 = listener }
        logger.info("listening on \(ListenAddress(host: listener.host, port: listener.port)) (UDP and TCP); reading the registry from etcd \(etcd.endpoints.joined(separator: ",")) under \(etcd.layout.watchPrefix), SERVFAIL until it is listed")

        try await etcd.withClient(logger: logger) { client in
            try await follow(client: client, pipeline: pipeline, listener: listener, zoneConfiguration: zoneConfiguration, logger: logger)
        }
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
