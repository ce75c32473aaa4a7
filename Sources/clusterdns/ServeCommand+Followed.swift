import ClusterZones
import DNSServer
import Logging
import ServiceLifecycle
import ServiceRegistry

/// Publishes what a followed registry (etcd, the API server) lists and then watches: the first
/// complete registry replaces the empty one the server answered SERVFAIL from, each later change
/// is patched in, and the metrics and readiness follow.
struct FollowedRegistryPublisher: Sendable {
    let pipeline: QueryPipeline
    let zoneConfiguration: ZoneConfiguration
    let ops: ServeOperations
    let logger: Logger

    /// The first complete registry, read `from` (said in the log).
    func synced(_ snapshot: RegistrySnapshot, from origin: String) {
        let start = ContinuousClock.now
        pipeline.publish(Catalog(snapshot: snapshot, configuration: zoneConfiguration))
        logger.info("serving \(zoneConfiguration.servedZones) from \(origin): \(snapshot.serviceCount) services in \(snapshot.namespaceCount) namespaces, serial \(snapshot.serial) (zones built in \((ContinuousClock.now - start).briefly))")
        ops.registryMetrics?.published(snapshot)
        ops.readiness.markReady("registry")
        compileAnswers(pipeline, logger: logger)
    }

    /// A change after that; `detail` says where it stands (an etcd revision).
    func applied(_ update: RegistryUpdate, detail: String = "") {
        let start = ContinuousClock.now
        let patched = pipeline.apply(update)
        ops.registryMetrics?.applied(update)
        logger.debug("serving serial \(update.snapshot.serial)\(detail.isEmpty ? "" : " (\(detail))"): \(update.snapshot.serviceCount) services; \(patched.names) names compiled again in \((ContinuousClock.now - start).briefly)")
    }
}

extension ServeCommand {
    /// Serving a registry that is followed rather than read (etcd, the API server): the listener is
    /// up at once and answers SERVFAIL for every name of its zones, with /ready 503, until the
    /// first complete list (a client caches NXDOMAIN; it must not learn that a Service does not
    /// exist because we have not heard of it yet). Then `run` follows its source and hands
    /// `serve` the services that do it, which run in the service group beside the listener.
    func serveFollowedRegistry(
        from origin: String, logger: Logger,
        run: (FollowedRegistryPublisher, _ serve: ([any ServiceLifecycle.Service]) async throws -> Void) async throws -> Void
    ) async throws {
        let zoneConfiguration = try zoneConfiguration()
        let ops = try await ServeOperations.start(operations, dnsListen: listen, waitingFor: ["registry"], logger: logger)
        let forwarder = try forwarding.makeForwarder(logger: logger, observer: ops.forwardingMetrics?.observer)
        ops.add(forwarder)
        defer { forwarder?.shutdown() }
        let zoneTransfers = try await transfers.makeTransfers(listenHost: ListenAddress(listen)!.host, logger: logger)
        let empty = RegistryStore(options: registryOptions).snapshot
        // --zone-file's zones are answered from the start: they do not wait for the registry.
        let staticZones = StaticZoneLoader(registryPaths: [], namedFiles: try namedZoneFiles(), configuration: zoneConfiguration)
        let pipeline = QueryPipeline(
            catalog: Catalog(snapshot: empty, configuration: zoneConfiguration, awaitingRegistry: true, staticZones: staticZones.firstZones(logger: logger)),
            compiledNamesLimit: compiledNamesLimit,
            metrics: ops.queryMetrics, forwarder: forwarder, autopath: autopath, transfers: zoneTransfers)

        let running = RunningListener()
        let signals = ServeSignals.stopping(running, logger: logger) {
            rereadConfig(running.pipeline, logger: logger)
            logger.info("received SIGHUP: the registry from \(origin) follows its watch, nothing to reload")
        }
        defer { signals.cancel() }
        let listener = try await startListener(pipeline, running: running, logger: logger)
        try await forwarding.refuseLoop(forwarder, listener: listener, logger: logger)
        logger.info("listening on \(ListenAddress(host: listener.host, port: listener.port)) (UDP and TCP); reading the registry from \(origin), SERVFAIL until it is listed")

        let publisher = FollowedRegistryPublisher(pipeline: pipeline, zoneConfiguration: zoneConfiguration, ops: ops, logger: logger)
        try await run(publisher) { sources in
            try await runServiceGroup(
                dns: DNSListenerService(listener: listener, readiness: ops.readiness, lameduck: operations.lameduck, logger: logger),
                sources: sources + [StaticZoneWatchService(loader: staticZones, pipeline: pipeline, logger: logger)], operations: ops.server, running: running, logger: logger)
        }
    }
}
