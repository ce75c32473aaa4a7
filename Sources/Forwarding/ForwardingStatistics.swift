import Atomics
import DNSWire

/// What the forwarder counts, as plain values a metrics layer reads at scrape time (CoreDNS's
/// names in the comments). Counting is an atomic add on the slow path; nothing here allocates.
public final class ForwardingStatistics: Sendable {
    /// Fresh cached answers given (`coredns_cache_hits_total`).
    public var cacheHits: Int { hits.load(ordering: .relaxed) }
    /// Questions the cache had no fresh answer for (`coredns_cache_misses_total`).
    public var cacheMisses: Int { misses.load(ordering: .relaxed) }
    /// Expired answers served because every upstream failed (`coredns_cache_served_stale_total`).
    public var servedStale: Int { stale.load(ordering: .relaxed) }
    /// Popular entries refreshed before they expired (`coredns_cache_prefetch_total`).
    public var prefetches: Int { prefetched.load(ordering: .relaxed) }
    /// Entries dropped to make room (`coredns_cache_evictions_total`).
    public var evictions: Int { evicted.load(ordering: .relaxed) }
    /// Queries answered REFUSED for being over the in-flight bound
    /// (`coredns_forward_max_concurrent_rejects_total`).
    public var concurrencyRejects: Int { rejects.load(ordering: .relaxed) }
    /// Queries sent to an upstream chosen at random because every one was down
    /// (`coredns_forward_healthcheck_broken_total`).
    public var healthcheckBroken: Int { broken.load(ordering: .relaxed) }

    let hits = ManagedAtomic(0)
    let misses = ManagedAtomic(0)
    let stale = ManagedAtomic(0)
    let prefetched = ManagedAtomic(0)
    let evicted = ManagedAtomic(0)
    let rejects = ManagedAtomic(0)
    let broken = ManagedAtomic(0)

    init() {}
}

/// One upstream's counters (`coredns_proxy_*{to}`).
public final class UpstreamStatistics: Sendable {
    /// Replies received, whatever their rcode.
    public var replies: Int { replied.load(ordering: .relaxed) }
    /// Exchanges that got no reply: timeouts and socket errors.
    public var failures: Int { failed.load(ordering: .relaxed) }
    /// Health probes that failed (`coredns_proxy_healthcheck_failures_total`).
    public var healthcheckFailures: Int { probesFailed.load(ordering: .relaxed) }
    /// Time spent waiting for replies, in nanoseconds, summed over `replies`
    /// (`coredns_proxy_request_duration_seconds` keeps a histogram through the observer).
    public var replyNanoseconds: Int { waited.load(ordering: .relaxed) }

    let replied = ManagedAtomic(0)
    let failed = ManagedAtomic(0)
    let probesFailed = ManagedAtomic(0)
    let waited = ManagedAtomic(0)

    init() {}
}

/// Called once per upstream reply, on the thread that received it: where a metrics layer records
/// a duration histogram by upstream and rcode, as `coredns_proxy_request_duration_seconds` does.
public typealias UpstreamReplyObserver = @Sendable (_ upstream: UpstreamAddress, _ responseCode: ResponseCode, _ duration: Duration) -> Void
