import DNSWire
import Synchronization

/// The cache of forwarded answers: positive and negative (RFC 2308), bounded in entries and TTL,
/// with expired entries kept for serve-stale (RFC 8767) and popular ones flagged for refresh
/// before they expire. Shared by every thread behind one lock: only names outside the cluster come
/// here, which is the slow path already.
///
/// Times are monotonic nanoseconds (`NIODeadline.now().uptimeNanoseconds`), passed in so tests
/// can move the clock.
final class ForwardCache: Sendable {
    struct Key: Hashable, Sendable {
        /// Lower case: every spelling of a name shares its entry.
        var name: DNSName
        var type: RecordType
        var `class`: DNSClass

        init(_ question: DNSQuestion) {
            name = question.name.lowercased()
            type = question.type
            `class` = question.class
        }
    }

    private struct Entry {
        var answer: ForwardedAnswer
        var stored: UInt64
        /// Seconds the answer is fresh for.
        var ttl: UInt32
        var hits = 0
        var prefetching = false
        /// Where its key sits in `State.keys`.
        var slot: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Every key, so one can be picked at random for eviction in O(1).
        var keys: [Key] = []
    }

    /// A fresh hit, and whether the caller should refresh it now (prefetch).
    struct Hit {
        var answer: ForwardedAnswer
        var prefetch: Bool
    }

    let configuration: ForwardCacheConfiguration
    private let state = Mutex(State())
    private let statistics: ForwardingStatistics

    init(configuration: ForwardCacheConfiguration, statistics: ForwardingStatistics) {
        self.configuration = configuration
        self.statistics = statistics
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Entries by CoreDNS's cache `type`: positive answers, and denials (NXDOMAIN and NODATA).
    var countsByType: (success: Int, denial: Int) {
        state.withLock { state in
            let denials = state.entries.values.reduce(0) { $0 + ($1.answer.responseCode == .nameError || $1.answer.answers.isEmpty ? 1 : 0) }
            return (state.entries.count - denials, denials)
        }
    }

    /// The fresh answer to `key`, its TTLs lowered by the time it has been cached.
    func lookup(_ key: Key, now: UInt64) -> Hit? {
        state.withLock { state -> Hit? in
            guard var entry = state.entries[key] else { return nil }
            let age = Self.seconds(from: entry.stored, to: now)
            guard age < UInt64(entry.ttl) else { return nil }
            let remaining = entry.ttl - UInt32(age)
            entry.hits += 1
            let prefetch = configuration.prefetchHits > 0 && !entry.prefetching && entry.hits >= configuration.prefetchHits
                && UInt64(remaining) * 100 <= UInt64(entry.ttl) * UInt64(configuration.prefetchPercent)
            if prefetch { entry.prefetching = true }
            state.entries[key] = entry
            return Hit(answer: entry.answer.mapTTLs { min($0, remaining) }, prefetch: prefetch)
        }
    }

    /// The answer to `key` once fresh and now expired less than `staleWindow` ago, with every
    /// TTL set to `staleTTL` (RFC 8767 §4).
    func stale(_ key: Key, now: UInt64) -> ForwardedAnswer? {
        state.withLock { state -> ForwardedAnswer? in
            guard let entry = state.entries[key], isServable(entry, now: now) else { return nil }
            var answer = entry.answer.mapTTLs { _ in configuration.staleTTL }
            answer.source = .stale
            return answer
        }
    }

    /// Whether an answer to `key` could be served stale now (fresh ones count too: by the time a
    /// stale answer is wanted they may have expired).
    func hasServable(_ key: Key, now: UInt64) -> Bool {
        state.withLock { state in state.entries[key].map { isServable($0, now: now) } ?? false }
    }

    private func isServable(_ entry: Entry, now: UInt64) -> Bool {
        configuration.staleWindow > .zero
            && Self.seconds(from: entry.stored, to: now) < UInt64(entry.ttl) + UInt64(configuration.staleWindow.components.seconds)
    }

    /// Keeps an upstream's reply to `key` when it may be cached: a positive answer for the
    /// smallest TTL of its answer and authority records, a negative one (NXDOMAIN, NODATA) for
    /// its SOA's negative TTL. Errors (SERVFAIL above all), truncated replies, negative answers
    /// without an SOA and TTL 0 are not kept, so none of them replaces a good entry.
    func store(_ message: DNSMessage, for key: Key, now: UInt64) {
        guard configuration.capacity > 0, let ttl = lifetime(of: message) else { return }
        let answer = ForwardedAnswer(message, source: .cache).mapTTLs { min($0, ttl) }
        state.withLock { state in
            if let existing = state.entries[key] {
                state.entries[key] = Entry(answer: answer, stored: now, ttl: ttl, slot: existing.slot)
                return
            }
            if state.entries.count >= configuration.capacity { evictOne(&state, now: now) }
            state.entries[key] = Entry(answer: answer, stored: now, ttl: ttl, slot: state.keys.count)
            state.keys.append(key)
        }
    }

    /// Seconds `message` may be cached for; nil when it may not be.
    func lifetime(of message: DNSMessage) -> UInt32? {
        guard !message.header.isTruncated else { return nil }
        let code = message.responseCode
        let ttl: UInt32?
        if code == .noError, !message.answers.isEmpty {
            ttl = (message.answers + message.authority).map(\.ttl).min().map { min($0, configuration.maxTTL) }
        } else if code == .noError || code == .nameError {
            // RFC 2308 §5: the lesser of the SOA's TTL and its MINIMUM field; no SOA, no caching.
            guard let soa = message.authority.lazy.compactMap({ record -> UInt32? in
                guard case .soa(let fields) = record.data else { return nil }
                return min(record.ttl, fields.minimum)
            }).first else { return nil }
            ttl = min(([soa] + message.answers.map(\.ttl)).min()!, configuration.maxDenialTTL)
        } else {
            ttl = nil
        }
        guard let ttl, ttl > 0 else { return nil }
        return ttl
    }

    /// Drops one entry: of a few picked at random, one past any use if there is one, else the
    /// one expiring first (CoreDNS drops one at random).
    private func evictOne(_ state: inout State, now: UInt64) {
        guard !state.keys.isEmpty else { return }
        var victim = Int.random(in: 0..<state.keys.count)
        var victimExpiry = UInt64.max
        for _ in 0..<4 {
            let slot = Int.random(in: 0..<state.keys.count)
            guard let entry = state.entries[state.keys[slot]] else { continue }
            let expiry = entry.stored &+ UInt64(entry.ttl) * 1_000_000_000
            if !isServable(entry, now: now), Self.seconds(from: entry.stored, to: now) >= UInt64(entry.ttl) {
                victim = slot
                break
            }
            if expiry < victimExpiry {
                victim = slot
                victimExpiry = expiry
            }
        }
        let key = state.keys[victim]
        state.entries[key] = nil
        let last = state.keys.removeLast()
        if victim < state.keys.count {
            state.keys[victim] = last
            state.entries[last]?.slot = victim
        }
        statistics.evicted.wrappingIncrement(ordering: .relaxed)
    }

    private static func seconds(from start: UInt64, to now: UInt64) -> UInt64 {
        now > start ? (now - start) / 1_000_000_000 : 0
    }
}
