import DNSWire
import Forwarding
import Prometheus

/// The forwarder's side of /metrics under CoreDNS's names: its cache and forward counters, read
/// from the forwarder's statistics when scraped, and the upstream request durations recorded per
/// reply (`coredns_proxy_request_duration_seconds{proxy_name="forward",to,rcode}`).
final class ForwardingMetrics: Sendable {
    /// CoreDNS's proxy duration buckets: 0.25 ms doubling, 16 of them (as its request durations).
    static let durationBuckets: [Duration] = (0..<16).map { .microseconds(250 << $0) }

    private let registry: PrometheusCollectorRegistry
    private let server: @Sendable () -> String

    init(registry: PrometheusCollectorRegistry, server: @escaping @Sendable () -> String) {
        self.registry = registry
        self.server = server
    }

    /// What the forwarder calls per upstream reply.
    var observer: UpstreamReplyObserver {
        { [registry] upstream, responseCode, duration in
            registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "coredns", subsystem: "proxy", metricName: "request_duration", unitName: "seconds",
                    helpText: "Histogram of the time each request took."),
                labels: [("proxy_name", "forward"), ("to", upstream.description), ("rcode", responseCode.description)],
                buckets: Self.durationBuckets
            ).record(duration)
        }
    }

    /// The counter and gauge families of `forwarder`, written when scraped.
    func exposition(of forwarder: Forwarder) -> String {
        let statistics = forwarder.statistics
        let labels = "server=\"\(server())\",zones=\".\",view=\"\""
        let entries = forwarder.cacheEntriesByType
        var text = """
            # HELP coredns_cache_entries The number of elements in the cache.
            # TYPE coredns_cache_entries gauge
            coredns_cache_entries{\(labels),type="success"} \(entries.success)
            coredns_cache_entries{\(labels),type="denial"} \(entries.denial)

            """
        let counters: [(String, String, String, Int)] = [
            ("coredns_cache_hits_total", "The count of cache hits.", ",type=\"all\"", statistics.cacheHits),
            ("coredns_cache_misses_total", "The count of cache misses. Deprecated, derive misses from cache hits/requests counters.", "", statistics.cacheMisses),
            ("coredns_cache_requests_total", "The count of cache requests.", "", statistics.cacheHits + statistics.cacheMisses),
            ("coredns_cache_served_stale_total", "The number of requests served from stale cache entries.", "", statistics.servedStale),
            ("coredns_cache_prefetch_total", "The number of times the cache has prefetched a cached item.", "", statistics.prefetches),
            ("coredns_cache_evictions_total", "The count of cache evictions.", ",type=\"all\"", statistics.evictions),
        ]
        for (name, help, extra, value) in counters {
            text += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name){\(labels)\(extra)} \(value)\n"
        }
        text += """
            # HELP coredns_forward_healthcheck_broken_total Counter of the number of complete failures of the healthchecks.
            # TYPE coredns_forward_healthcheck_broken_total counter
            coredns_forward_healthcheck_broken_total \(statistics.healthcheckBroken)
            # HELP coredns_forward_max_concurrent_rejects_total Counter of the number of queries rejected because the concurrent queries were at maximum.
            # TYPE coredns_forward_max_concurrent_rejects_total counter
            coredns_forward_max_concurrent_rejects_total \(statistics.concurrencyRejects)
            # HELP coredns_proxy_healthcheck_failures_total Count of failed health checks per upstream.
            # TYPE coredns_proxy_healthcheck_failures_total counter

            """
        for (upstream, counts, _) in forwarder.upstreamStatistics {
            text += "coredns_proxy_healthcheck_failures_total{proxy_name=\"forward\",to=\"\(upstream)\"} \(counts.healthcheckFailures)\n"
        }
        text += "# HELP clusterdns_forward_upstream_down Whether an upstream is skipped for failed health checks (1) or used (0).\n"
        text += "# TYPE clusterdns_forward_upstream_down gauge\n"
        for (upstream, _, isDown) in forwarder.upstreamStatistics {
            text += "clusterdns_forward_upstream_down{to=\"\(upstream)\"} \(isDown ? 1 : 0)\n"
        }
        return text
    }
}
