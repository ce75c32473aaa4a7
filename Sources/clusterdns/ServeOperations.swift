import DNSServer
import Forwarding
import Logging
import Operations
import Prometheus

/// What `serve` runs beside DNS for operators: the query and registry metrics, the readiness that
/// /ready reports, and the HTTP listener serving them (only with --http-listen: without it nothing
/// is counted on the query path at all).
struct ServeOperations: Sendable {
    let queryMetrics: QueryMetrics?
    let registryMetrics: RegistryMetrics?
    let forwardingMetrics: ForwardingMetrics?
    let exposition: MetricsExposition?
    let readiness: Readiness
    let server: OperationsServer?

    /// The version `coredns_build_info` reports.
    static let version = "0.3.0"

    /// - Parameter waitingFor: what /ready waits for (the registry; each source).
    static func start(_ options: OperationsOptions, dnsListen: String, waitingFor parts: [String], logger: Logger) async throws -> ServeOperations {
        let readiness = Readiness(waitingFor: parts)
        guard let httpListen = options.httpListen, let address = ListenAddress(httpListen) else {
            return ServeOperations(
                queryMetrics: nil, registryMetrics: nil, forwardingMetrics: nil, exposition: nil, readiness: readiness, server: nil)
        }
        let registry = PrometheusCollectorRegistry()
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "coredns", metricName: "build_info", unitName: "",
                helpText: "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built."),
            labels: [("version", version), ("revision", "clusterdns"), ("goversion", swiftVersion)]
        ).set(Int64(1))
        let queryMetrics = QueryMetrics(server: "dns://\(dnsListen)")
        let registryMetrics = RegistryMetrics(registry: registry)
        let exposition = MetricsExposition(registry: registry, writers: [queryMetrics.exposition, registryMetrics.exposition])
        let server = try await OperationsServer.start(host: address.host, port: address.port, metrics: exposition, readiness: readiness)
        logger.info("serving /metrics, /health and /ready on http://\(ListenAddress(host: address.host, port: server.port))")
        return ServeOperations(
            queryMetrics: queryMetrics, registryMetrics: registryMetrics,
            forwardingMetrics: ForwardingMetrics(registry: registry, server: { queryMetrics.server }), exposition: exposition,
            readiness: readiness, server: server)
    }

    /// Serves `forwarder`'s metrics from now on.
    func add(_ forwarder: Forwarder?) {
        guard let forwarder, let forwardingMetrics else { return }
        exposition?.add { forwardingMetrics.exposition(of: forwarder) }
    }

    /// The compiler that built us, where CoreDNS says which Go did.
    private static var swiftVersion: String {
        #if compiler(>=6.3)
        return "swift6.3"
        #else
        return "swift6"
        #endif
    }
}
