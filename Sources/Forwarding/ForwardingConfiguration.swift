/// How the forwarder reaches its upstreams and caches what they answer. The defaults are
/// CoreDNS's forward and cache plugins' (where RFC 8767 advises otherwise, RFC 8767's).
public struct ForwardingConfiguration: Sendable {
    /// CoreDNS's limit: more upstreams would only lengthen a failing query.
    public static let maxUpstreams = 15

    public var upstreams: [UpstreamAddress]
    public var policy: UpstreamPolicy
    /// How long one upstream has to answer before the next is tried (CoreDNS's read timeout).
    public var attemptTimeout: Duration
    /// How long a client query may take in all, over every upstream tried.
    public var deadline: Duration
    /// Queries to upstreams at once; more are answered REFUSED (and counted), so a flood of
    /// names outside the cluster cannot take unbounded memory.
    public var maxConcurrent: Int
    /// Between health probes (`. IN NS`) of an upstream that failed, until it answers.
    public var healthCheckInterval: Duration
    /// How long a health probe waits.
    public var healthCheckTimeout: Duration
    /// Failed probes after which an upstream is taken out of rotation; 0 never takes one out.
    public var maxFails: Int
    public var cache: ForwardCacheConfiguration

    public init(
        upstreams: [UpstreamAddress],
        policy: UpstreamPolicy = .random,
        attemptTimeout: Duration = .seconds(2),
        deadline: Duration = .seconds(5),
        maxConcurrent: Int = 1000,
        healthCheckInterval: Duration = .milliseconds(500),
        healthCheckTimeout: Duration = .seconds(1),
        maxFails: Int = 2,
        cache: ForwardCacheConfiguration = ForwardCacheConfiguration()
    ) {
        self.upstreams = upstreams
        self.policy = policy
        self.attemptTimeout = attemptTimeout
        self.deadline = deadline
        self.maxConcurrent = maxConcurrent
        self.healthCheckInterval = healthCheckInterval
        self.healthCheckTimeout = healthCheckTimeout
        self.maxFails = maxFails
        self.cache = cache
    }
}

/// The cache of forwarded answers (cluster names never enter it: the registry answers them).
public struct ForwardCacheConfiguration: Sendable {
    /// Entries kept; 0 turns the cache off. CoreDNS keeps 9984 per kind (success, denial).
    public var capacity: Int
    /// The longest a positive answer is kept, whatever its TTL says.
    public var maxTTL: UInt32
    /// The longest a negative answer (NXDOMAIN, NODATA) is kept.
    public var maxDenialTTL: UInt32
    /// How long past its expiry an answer may still be served when every upstream fails
    /// (RFC 8767); zero serves nothing stale.
    public var staleWindow: Duration
    /// The TTL of a stale answer (RFC 8767 §4 recommends 30 s).
    public var staleTTL: UInt32
    /// A query that has a stale answer and no upstream reply by then gets the stale answer (RFC
    /// 8767's client response timer, 1.8 s), while the upstream query goes on to refresh it.
    public var staleAnswerDelay: Duration
    /// Hits an entry needs during its lifetime to be refreshed before it expires; 0 never.
    public var prefetchHits: Int
    /// An entry is refreshed once this share (in percent) of its TTL is left.
    public var prefetchPercent: Int

    public init(
        capacity: Int = 9984,
        maxTTL: UInt32 = 3600,
        maxDenialTTL: UInt32 = 1800,
        staleWindow: Duration = .seconds(3600),
        staleTTL: UInt32 = 30,
        staleAnswerDelay: Duration = .milliseconds(1800),
        prefetchHits: Int = 3,
        prefetchPercent: Int = 10
    ) {
        self.capacity = capacity
        self.maxTTL = maxTTL
        self.maxDenialTTL = maxDenialTTL
        self.staleWindow = staleWindow
        self.staleTTL = staleTTL
        self.staleAnswerDelay = staleAnswerDelay
        self.prefetchHits = prefetchHits
        self.prefetchPercent = prefetchPercent
    }
}
