import DNSWire
import Testing

@testable import Forwarding

/// The cache's rules, with the clock moved by hand (nanoseconds).
struct ForwardCacheTests {
    static let second: UInt64 = 1_000_000_000
    let name = try! DNSName("www.example.com")
    var key: ForwardCache.Key { ForwardCache.Key(DNSQuestion(name: name, type: .a)) }

    func cache(_ configuration: ForwardCacheConfiguration = ForwardCacheConfiguration()) -> ForwardCache {
        ForwardCache(configuration: configuration, statistics: ForwardingStatistics())
    }

    func reply(_ code: ResponseCode = .noError, answers: [ResourceRecord] = [], authority: [ResourceRecord] = [], truncated: Bool = false) -> DNSMessage {
        var header = DNSHeader.response(to: DNSHeader(), responseCode: code, authoritative: false, recursionAvailable: true)
        header.isTruncated = truncated
        return DNSMessage(header: header, questions: [DNSQuestion(name: name, type: .a)], answers: answers, authority: authority)
    }

    func a(_ ttl: UInt32, _ address: UInt32 = 0x0a00_0001) -> ResourceRecord {
        ResourceRecord(name: name, ttl: ttl, data: .a(address))
    }

    func soa(ttl: UInt32, minimum: UInt32) -> ResourceRecord {
        let root = DNSName.root
        return ResourceRecord(name: root, ttl: ttl, data: .soa(StartOfAuthority(
            primaryNameServer: try! DNSName("ns.example"), responsibleMailbox: root, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: minimum)))
    }

    @Test func aPositiveAnswerLivesForItsSmallestTTLAndItsTTLsCountDown() {
        let cache = cache()
        cache.store(reply(answers: [a(300), a(60, 2)]), for: key, now: 0)
        let hit = cache.lookup(key, now: 10 * Self.second)
        #expect(hit?.answer.answers.map(\.ttl) == [50, 50])
        #expect(hit?.answer.source == .cache)
        #expect(cache.lookup(key, now: 60 * Self.second) == nil)
    }

    @Test func theMaximumTTLCapsAPositiveAnswer() {
        let cache = cache(ForwardCacheConfiguration(maxTTL: 30))
        cache.store(reply(answers: [a(86400)]), for: key, now: 0)
        #expect(cache.lookup(key, now: 0)?.answer.answers.first?.ttl == 30)
        #expect(cache.lookup(key, now: 31 * Self.second) == nil)
    }

    @Test(arguments: [ResponseCode.nameError, .noError])
    func aNegativeAnswerLivesForTheSmallerOfTheSOAsTTLAndMinimum(_ code: ResponseCode) {
        let cache = cache()
        cache.store(reply(code, authority: [soa(ttl: 3600, minimum: 40)]), for: key, now: 0)
        let hit = cache.lookup(key, now: 0)
        #expect(hit?.answer.responseCode == code)
        #expect(hit?.answer.authority.first?.ttl == 40)
        #expect(cache.lookup(key, now: 39 * Self.second) != nil)
        #expect(cache.lookup(key, now: 40 * Self.second) == nil)
    }

    @Test func aNegativeAnswerWithoutAnSOAIsNotCached() {
        let cache = cache()
        cache.store(reply(.nameError), for: key, now: 0)
        #expect(cache.lookup(key, now: 0) == nil)
    }

    @Test func theDenialMaximumCapsANegativeAnswer() {
        let cache = cache(ForwardCacheConfiguration(maxDenialTTL: 5))
        cache.store(reply(.nameError, authority: [soa(ttl: 3600, minimum: 900)]), for: key, now: 0)
        #expect(cache.lookup(key, now: 4 * Self.second) != nil)
        #expect(cache.lookup(key, now: 5 * Self.second) == nil)
    }

    @Test(arguments: [ResponseCode.serverFailure, .refused, .formatError])
    func anErrorNeverReplacesAGoodEntry(_ code: ResponseCode) {
        let cache = cache()
        cache.store(reply(answers: [a(300)]), for: key, now: 0)
        cache.store(reply(code), for: key, now: Self.second)
        #expect(cache.lookup(key, now: 2 * Self.second)?.answer.responseCode == .noError)
    }

    @Test func truncatedAndZeroTTLAnswersAreNotCached() {
        let cache = cache()
        cache.store(reply(answers: [a(300)], truncated: true), for: key, now: 0)
        cache.store(reply(answers: [a(0)]), for: ForwardCache.Key(DNSQuestion(name: .root, type: .a)), now: 0)
        #expect(cache.count == 0)
    }

    @Test func namesShareAnEntryWhateverTheirCase() {
        let cache = cache()
        cache.store(reply(answers: [a(300)]), for: key, now: 0)
        let shouted = ForwardCache.Key(DNSQuestion(name: try! DNSName("WWW.Example.COM"), type: .a))
        #expect(cache.lookup(shouted, now: 0) != nil)
    }

    @Test func anExpiredAnswerIsServedStaleWithTTL30WithinTheWindowOnly() {
        let cache = cache(ForwardCacheConfiguration(staleWindow: .seconds(100)))
        cache.store(reply(answers: [a(10)]), for: key, now: 0)
        #expect(cache.lookup(key, now: 20 * Self.second) == nil)
        let stale = cache.stale(key, now: 20 * Self.second)
        #expect(stale?.answers.map(\.ttl) == [30])
        #expect(stale?.source == .stale)
        #expect(cache.stale(key, now: 111 * Self.second) == nil)
    }

    @Test func withoutServeStaleNothingExpiredIsServed() {
        let cache = cache(ForwardCacheConfiguration(staleWindow: .zero))
        cache.store(reply(answers: [a(10)]), for: key, now: 0)
        #expect(cache.stale(key, now: 11 * Self.second) == nil)
    }

    @Test func theCacheHoldsAtMostItsCapacity() {
        let statistics = ForwardingStatistics()
        let cache = ForwardCache(configuration: ForwardCacheConfiguration(capacity: 10), statistics: statistics)
        for index in 0..<100 {
            let key = ForwardCache.Key(DNSQuestion(name: try! DNSName("n\(index).example"), type: .a))
            cache.store(reply(answers: [a(300)]), for: key, now: UInt64(index))
        }
        #expect(cache.count == 10)
        #expect(statistics.evictions == 90)
    }

    @Test func aPopularEntryNearExpiryIsFlaggedForPrefetchOnce() {
        let cache = cache(ForwardCacheConfiguration(prefetchHits: 2, prefetchPercent: 10))
        cache.store(reply(answers: [a(100)]), for: key, now: 0)
        #expect(cache.lookup(key, now: 10 * Self.second)?.prefetch == false)  // one hit, 90 s left
        #expect(cache.lookup(key, now: 50 * Self.second)?.prefetch == false)  // two hits, 50 s left
        #expect(cache.lookup(key, now: 91 * Self.second)?.prefetch == true)  // 9 s left
        #expect(cache.lookup(key, now: 92 * Self.second)?.prefetch == false)  // already refreshing
        cache.store(reply(answers: [a(100)]), for: key, now: 93 * Self.second)
        #expect(cache.lookup(key, now: 94 * Self.second)?.prefetch == false)  // a new entry starts counting again
    }
}
