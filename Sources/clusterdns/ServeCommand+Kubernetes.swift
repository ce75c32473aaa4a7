import ArgumentParser
import ClusterZones
import DNSServer
import Foundation
import KubernetesRegistry
import Logging
import ServiceRegistry

extension ServeCommand {
    /// `serve --kubernetes` or `--kubeconfig`: as `--etcd`, the listener is up at once and answers
    /// SERVFAIL in its zones until every resource has been listed (and /ready is 503 until then);
    /// then changes are patched in as they are watched. While the API server cannot be reached the
    /// last good registry answers and /ready stays 200: every replica turning unready at once would
    /// take the whole cluster's DNS away.
    func serveFromKubernetes(logger: Logger) async throws {
        let zoneConfiguration = try zoneConfiguration()
        let access: KubernetesAccess
        do {
            access = try kubernetes.access()
        } catch let error as KubernetesError {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        let ops = try await ServeOperations.start(operations, dnsListen: listen, waitingFor: ["registry"], logger: logger)
        let forwarder = try forwarding.makeForwarder(logger: logger, observer: ops.forwardingMetrics?.observer)
        ops.add(forwarder)
        defer { forwarder?.shutdown() }
        let empty = RegistryStore(options: cidrs.registryOptions).snapshot
        let pipeline = QueryPipeline(
            catalog: Catalog(snapshot: empty, configuration: zoneConfiguration, awaitingRegistry: true), compiledNamesLimit: compiledNamesLimit,
            metrics: ops.queryMetrics, forwarder: forwarder, autopath: autopath)

        let running = RunningListener()
        let signals = ServeSignals.stopping(running, logger: logger) {
            rereadConfig(running.pipeline, logger: logger)
            logger.info("received SIGHUP: the API server's registry follows its watches, nothing to reload")
        }
        defer { signals.cancel() }
        let listener = try await startListener(pipeline, running: running, logger: logger)
        try await forwarding.refuseLoop(forwarder, listener: listener, logger: logger)
        let resources = KubernetesResource.needed(pods: pods == .verified || autopath)
        logger.info("listening on \(ListenAddress(host: listener.host, port: listener.port)) (UDP and TCP); reading the registry from the API server \(access.server) (\(resources.map(\.kind).joined(separator: ", "))), SERVFAIL until it is listed")

        let client = try KubernetesClient(access: access)
        let source = KubernetesSource(client: client, resources: resources, options: cidrs.registryOptions, logger: logger)
        let zoneDomain = zoneConfiguration.domain
        let following = TaskService {
            await source.run { publication in
                switch publication {
                case .synced(let snapshot):
                    let start = ContinuousClock.now
                    pipeline.publish(Catalog(snapshot: snapshot, configuration: zoneConfiguration))
                    logger.info("serving \(zoneDomain.description), in-addr.arpa., ip6.arpa. from the API server: \(snapshot.serviceCount) services in \(snapshot.namespaceCount) namespaces, serial \(snapshot.serial) (zones built in \((ContinuousClock.now - start).briefly))")
                    ops.registryMetrics?.published(snapshot)
                    ops.readiness.markReady("registry")
                    compileAnswers(pipeline, logger: logger)
                case .update(let update):
                    let start = ContinuousClock.now
                    let patched = pipeline.apply(update)
                    ops.registryMetrics?.applied(update)
                    logger.debug("serving serial \(update.snapshot.serial): \(update.snapshot.serviceCount) services; \(patched.names) names compiled again in \((ContinuousClock.now - start).briefly)")
                }
            }
        }
        do {
            try await runServiceGroup(
                dns: DNSListenerService(listener: listener, readiness: ops.readiness, lameduck: operations.lameduck, logger: logger),
                sources: [following], operations: ops.server, running: running, logger: logger)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}
