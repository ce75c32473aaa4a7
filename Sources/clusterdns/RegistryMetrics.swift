import Prometheus
import ServiceRegistry
import Synchronization

/// The registry's side of /metrics: objects served per kind, objects left out, how long ago the
/// last change was published, and CoreDNS's DNS programming latency (a change seen → its answer),
/// the Kubernetes DNS programming SLI.
final class RegistryMetrics: Sendable {
    /// CoreDNS's buckets for the programming latency: 1 ms doubling, 20 buckets.
    static let programmingBuckets: [Duration] = (0..<20).map { .milliseconds(1 << $0) }

    private let services, pods, namespaces, invalid: Gauge
    private let programming: [DurationHistogram]
    private let lastChange = Mutex<ContinuousClock.Instant?>(nil)

    init(registry: PrometheusCollectorRegistry) {
        let objects = MetricNameDescriptor(
            namespace: "clusterdns", subsystem: "registry", metricName: "objects", unitName: "",
            helpText: "Objects the served registry holds, by kind.")
        services = registry.makeGauge(descriptor: objects, labels: [("kind", "Service")])
        pods = registry.makeGauge(descriptor: objects, labels: [("kind", "Pod")])
        namespaces = registry.makeGauge(descriptor: objects, labels: [("kind", "Namespace")])
        invalid = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "clusterdns", subsystem: "registry", metricName: "invalid_objects", unitName: "",
            helpText: "Objects of the last full load left out for errors (a bad object keeps its last good version or is skipped)."))
        let latency = MetricNameDescriptor(
            namespace: "coredns", subsystem: "kubernetes", metricName: "dns_programming_duration", unitName: "seconds",
            helpText: "Histogram of the time (in seconds) it took to program a dns instance.")
        programming = ["cluster_ip", "headless_with_selector", "headless_without_selector"].map {
            registry.makeDurationHistogram(descriptor: latency, labels: [("service_kind", $0)], buckets: Self.programmingBuckets)
        }
    }

    /// A registry is served (the first, or a full reload).
    func published(_ snapshot: RegistrySnapshot, invalidObjects: Int? = nil) {
        services.set(Int64(snapshot.serviceCount))
        pods.set(Int64(snapshot.podCount))
        namespaces.set(Int64(snapshot.namespaceCount))
        if let invalidObjects { invalid.set(Int64(invalidObjects)) }
        lastChange.withLock { $0 = .now }
    }

    /// An update answers now: one programming latency per Service it touched that still exists.
    func applied(_ update: RegistryUpdate) {
        published(update.snapshot)
        let latency = ContinuousClock.now - update.seen
        for key in update.change.services {
            guard let service = update.snapshot.service(key), service.type != .externalName else { continue }
            programming[!service.isHeadless ? 0 : service.selector == nil ? 2 : 1].record(latency)
        }
    }

    /// `clusterdns_registry_last_change_age_seconds`, computed when scraped.
    @Sendable func exposition() -> String {
        guard let last = lastChange.withLock({ $0 }) else { return "" }
        let age = ContinuousClock.now - last
        let seconds = Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18
        return """
            # HELP clusterdns_registry_last_change_age_seconds Seconds since the registry served last changed.
            # TYPE clusterdns_registry_last_change_age_seconds gauge
            clusterdns_registry_last_change_age_seconds \(seconds)

            """
    }
}
