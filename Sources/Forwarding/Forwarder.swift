import Atomics
import DNSWire
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Answers questions for names outside every zone from upstream resolvers, through a cache of
/// their answers: the slow path, taken only for names the cluster does not hold. It never blocks
/// a caller: a cached answer is returned at once (`cachedAnswer`), anything else arrives later
/// through the caller's closure (`resolve`), from an event loop.
///
/// Upstreams are tried in the policy's order, each for `attemptTimeout`, all within `deadline`;
/// one that fails is probed (`. IN NS`) every `healthCheckInterval` until it answers, and after
/// `maxFails` failed probes is skipped until then. When every upstream is down one is tried at
/// random anyway, as CoreDNS does: a health check that is wrong must not take DNS down with it.
public final class Forwarder: Sendable {
    public let configuration: ForwardingConfiguration
    public let statistics = ForwardingStatistics()
    let upstreams: [Upstream]
    let cache: ForwardCache?
    let eventLoops: any EventLoopGroup
    private let logger: Logger
    private let observer: UpstreamReplyObserver?
    private let turn = ManagedAtomic(0)
    private let inFlight = ManagedAtomic(0)
    private let isShutDown = ManagedAtomic(false)
    /// The name of the loop probe while one runs, and how often it reached us (`LoopDetection`).
    let loopProbe = Mutex<(name: DNSName?, sightings: Int)>((nil, 0))

    public init(
        configuration: ForwardingConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger, observer: UpstreamReplyObserver? = nil
    ) throws(ForwardingError) {
        guard !configuration.upstreams.isEmpty else { throw ForwardingError(.badUpstream, "no upstream to forward to") }
        guard configuration.upstreams.count <= ForwardingConfiguration.maxUpstreams else {
            throw ForwardingError(.tooManyUpstreams, "\(configuration.upstreams.count) upstreams; at most \(ForwardingConfiguration.maxUpstreams)")
        }
        self.configuration = configuration
        self.upstreams = configuration.upstreams.map(Upstream.init)
        self.eventLoops = group
        self.logger = logger
        self.observer = observer
        self.cache = configuration.cache.capacity > 0 ? ForwardCache(configuration: configuration.cache, statistics: statistics) : nil
    }

    /// Entries in the cache now (`coredns_cache_entries`).
    public var cacheEntries: Int { cache?.count ?? 0 }

    /// Cached entries by CoreDNS's cache `type` label (`coredns_cache_entries`).
    public var cacheEntriesByType: (success: Int, denial: Int) { cache?.countsByType ?? (0, 0) }

    /// Each upstream's address and counters, in configuration order.
    public var upstreamStatistics: [(upstream: UpstreamAddress, statistics: UpstreamStatistics, isDown: Bool)] {
        upstreams.map { ($0.address, $0.statistics, $0.isDown(maxFails: configuration.maxFails)) }
    }

    /// The fresh cached answer to `question`, if there is one; a popular entry close to expiry is
    /// refreshed in the background meanwhile.
    public func cachedAnswer(to question: DNSQuestion) -> ForwardedAnswer? {
        guard let cache else { return nil }
        let key = ForwardCache.Key(question)
        guard let hit = cache.lookup(key, now: Self.now()) else { return nil }
        statistics.hits.wrappingIncrement(ordering: .relaxed)
        if hit.prefetch {
            statistics.prefetched.wrappingIncrement(ordering: .relaxed)
            Task { [self] in
                if case .success(let message) = await exchange(question, overTCP: false), Self.isUsable(message) {
                    cache.store(message, for: key, now: Self.now())
                }
            }
        }
        return hit.answer
    }

    /// Asks the upstreams (the cache had no fresh answer) and calls `reply` once, later, from
    /// another thread: with the upstream's answer; with a stale one (RFC 8767) when the upstreams
    /// fail or are slower than `staleAnswerDelay`; else SERVFAIL. Over the in-flight bound it
    /// answers REFUSED at once, without asking.
    /// - Parameter question: in lower case, as the zones are asked.
    /// - Parameter overTCP: the client asked over TCP, so the upstream is asked over TCP too.
    public func resolve(_ question: DNSQuestion, overTCP: Bool, reply: @escaping @Sendable (ForwardedAnswer) -> Void) {
        if sawLoopProbe(question) {
            reply(.failed)
            return
        }
        statistics.misses.wrappingIncrement(ordering: .relaxed)
        guard inFlight.wrappingIncrementThenLoad(ordering: .relaxed) <= configuration.maxConcurrent else {
            inFlight.wrappingDecrement(ordering: .relaxed)
            statistics.rejects.wrappingIncrement(ordering: .relaxed)
            reply(.overLimit)
            return
        }
        let once = ReplyOnce(reply)
        let key = ForwardCache.Key(question)
        var staleTimer: Scheduled<Void>?
        if let cache, cache.hasServable(key, now: Self.now()) {
            let delay = configuration.cache.staleAnswerDelay
            staleTimer = eventLoops.next().scheduleTask(in: TimeAmount(delay)) { [statistics] in
                if let stale = cache.stale(key, now: Self.now()), once.send(stale) {
                    statistics.stale.wrappingIncrement(ordering: .relaxed)
                }
            }
        }
        Task { [self] in
            defer { inFlight.wrappingDecrement(ordering: .relaxed) }
            let outcome = await exchange(question, overTCP: overTCP)
            staleTimer?.cancel()
            if case .success(let message) = outcome, Self.isUsable(message) {
                cache?.store(message, for: key, now: Self.now())
                once.send(ForwardedAnswer(message, source: .upstream))
                return
            }
            guard !once.isSent else { return }
            if let stale = cache?.stale(key, now: Self.now()) {
                if once.send(stale) { statistics.stale.wrappingIncrement(ordering: .relaxed) }
                return
            }
            switch outcome {
            case .success(let message): once.send(ForwardedAnswer(message, source: .upstream))
            case .failure: once.send(.failed)
            }
        }
    }

    /// A reply worth giving over a stale answer: anything but SERVFAIL and REFUSED, which mean the
    /// upstream could not resolve it (RFC 8767 §4 counts them as failures).
    static func isUsable(_ message: DNSMessage) -> Bool {
        message.responseCode != .serverFailure && message.responseCode != .refused
    }

    /// Stops the health checks. Exchanges in flight finish by their own deadlines.
    public func shutdown() {
        isShutDown.store(true, ordering: .relaxed)
        for upstream in upstreams {
            upstream.healthCheck.withLock { task in
                task?.cancel()
                task = nil
            }
        }
    }

    /// The upstreams in the order this query tries them: the policy's order without the ones that
    /// are down, or, when all are, one at random.
    func upstreamsToTry() -> [Upstream] {
        let order = configuration.policy.order(count: upstreams.count, turn: turn.loadThenWrappingIncrement(ordering: .relaxed))
        let healthy = order.map { upstreams[$0] }.filter { !$0.isDown(maxFails: configuration.maxFails) }
        guard healthy.isEmpty else { return healthy }
        statistics.broken.wrappingIncrement(ordering: .relaxed)
        return [upstreams.randomElement()!]
    }

    /// Asks the upstreams in turn until one replies (any rcode) or the deadline passes. A UDP
    /// reply with TC set is asked again over TCP of the same upstream. Each upstream is tried once:
    /// a query that every upstream refused fails at once (and may be answered stale) instead of
    /// spinning until its deadline.
    func exchange(_ question: DNSQuestion, overTCP: Bool) async -> Result<DNSMessage, ForwardingError> {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.deadline
        var lastError = ForwardingError(.timeout, "no upstream replied within \(configuration.deadline)")
        for upstream in upstreamsToTry() {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else { break }
            let start = clock.now
            do throws(ForwardingError) {
                var message = try await UpstreamExchange.exchange(
                    question, with: upstream.address.socketAddress, overTCP: overTCP,
                    timeout: min(configuration.attemptTimeout, remaining), group: eventLoops)
                if message.header.isTruncated, !overTCP {
                    let left = clock.now.duration(to: deadline)
                    guard left > .zero else { throw ForwardingError(.timeout, "no time left to retry over TCP", location: "\(upstream.address)") }
                    message = try await UpstreamExchange.exchange(
                        question, with: upstream.address.socketAddress, overTCP: true, timeout: min(configuration.attemptTimeout, left), group: eventLoops)
                }
                let elapsed = start.duration(to: clock.now)
                upstream.statistics.replied.wrappingIncrement(ordering: .relaxed)
                upstream.statistics.waited.wrappingIncrement(by: Int(TimeAmount(elapsed).nanoseconds), ordering: .relaxed)
                observer?(upstream.address, message.responseCode, elapsed)
                return .success(message)
            } catch {
                upstream.statistics.failed.wrappingIncrement(ordering: .relaxed)
                logger.debug("upstream failed", metadata: ["upstream": "\(upstream.address)", "question": "\(question.name) \(question.type)", "error": "\(error)"])
                lastError = error
                startHealthCheck(upstream)
            }
        }
        return .failure(lastError)
    }

    /// Starts probing `upstream` with `. IN NS` every `healthCheckInterval` until it replies,
    /// unless a probe loop already runs (or checks are off). Any reply, SERVFAIL included, means it
    /// is up, as in CoreDNS; each failed probe counts towards `maxFails`.
    func startHealthCheck(_ upstream: Upstream) {
        guard configuration.maxFails > 0, !isShutDown.load(ordering: .relaxed) else { return }
        upstream.healthCheck.withLock { running in
            guard running == nil else { return }
            running = Task { [self] in
                let probe = DNSQuestion(name: .root, type: .ns)
                while !Task.isCancelled {
                    do {
                        _ = try await UpstreamExchange.exchange(
                            probe, with: upstream.address.socketAddress, overTCP: false, timeout: configuration.healthCheckTimeout, group: eventLoops)
                        if upstream.fails.exchange(0, ordering: .relaxed) >= configuration.maxFails {
                            logger.notice("upstream \(upstream.address) answers again: back in rotation")
                        }
                        break
                    } catch {
                        upstream.statistics.probesFailed.wrappingIncrement(ordering: .relaxed)
                        if upstream.fails.wrappingIncrementThenLoad(ordering: .relaxed) == configuration.maxFails {
                            logger.warning("upstream \(upstream.address) is down after \(configuration.maxFails) failed health checks (\(error)); out of rotation until it answers")
                        }
                    }
                    try? await Task.sleep(for: configuration.healthCheckInterval)
                }
                upstream.healthCheck.withLock { $0 = nil }
            }
        }
    }

    static func now() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }
}
