import Atomics
import DNSWire

#if canImport(Glibc)
import Glibc
#endif

/// One query as the metrics see it, once it is answered.
public struct QueryObservation: Sendable {
    public var transport: DNSTransport
    /// The client's address family: CoreDNS's `family` label (1 IPv4, 2 IPv6).
    public var isIPv6: Bool
    /// The question's type, when the query could be read.
    public var questionType: UInt16?
    public var requestBytes: Int
    public var responseBytes: Int
    /// The response's RCODE (the header's four bits).
    public var responseCode: UInt8
    public var path: AnswerPath
    /// From the query read to its response written.
    public var nanoseconds: UInt64

    public init(
        transport: DNSTransport, isIPv6: Bool, questionType: UInt16?, requestBytes: Int, responseBytes: Int,
        responseCode: UInt8, path: AnswerPath, nanoseconds: UInt64
    ) {
        self.transport = transport
        self.isIPv6 = isIPv6
        self.questionType = questionType
        self.requestBytes = requestBytes
        self.responseBytes = responseBytes
        self.responseCode = responseCode
        self.path = path
        self.nanoseconds = nanoseconds
    }
}

/// The counters of one thread's queries, written by that thread alone and read by a scrape.
///
/// A shared counter would make every query of every thread an atomic read-modify-write on one
/// cache line; here each thread adds to its own slots with a plain load and store (relaxed atomics,
/// so a concurrent scrape reads whole values), and `QueryMetrics` sums the threads when scraped.
///
/// Unchecked Sendable: one thread writes, scrapes only read, every access is atomic.
final class QueryTally: @unchecked Sendable {
    /// swift-atomics' storage of a UInt64 (the standard library's `Synchronization` has a type of
    /// the same name).
    private typealias Slot = UnsafeAtomic<UInt64>.Storage
    private let slots: UnsafeMutablePointer<Slot>

    init() {
        slots = .allocate(capacity: Layout.slotCount)
        slots.initialize(repeating: Slot(0), count: Layout.slotCount)
    }

    deinit {
        slots.deinitialize(count: Layout.slotCount)
        slots.deallocate()
    }

    @inline(__always)
    private func add(_ amount: UInt64, at slot: Int) {
        let pointer = slots + slot
        let value = Slot.atomicLoad(at: pointer, ordering: .relaxed)
        Slot.atomicStore(value &+ amount, at: pointer, ordering: .relaxed)
    }

    func value(at slot: Int) -> UInt64 {
        Slot.atomicLoad(at: slots + slot, ordering: .relaxed)
    }

    func record(_ query: QueryObservation) {
        let proto = query.transport == .tcp ? 1 : 0
        add(1, at: Layout.request(proto: proto, ipv6: query.isIPv6, type: Layout.typeIndex(query.questionType)))
        add(1, at: Layout.response(rcode: Int(query.responseCode & 0x0F), plugin: Layout.pluginIndex(query.path, rcode: query.responseCode)))
        add(1, at: Layout.path(query.path))
        add(1, at: Layout.durationBucket(nanoseconds: query.nanoseconds))
        add(query.nanoseconds, at: Layout.durationSum)
        add(1, at: Layout.requestSizeBucket(proto: proto, bytes: query.requestBytes))
        add(UInt64(query.requestBytes), at: Layout.requestSizeSum(proto: proto))
        add(1, at: Layout.responseSizeBucket(proto: proto, bytes: query.responseBytes))
        add(UInt64(query.responseBytes), at: Layout.responseSizeSum(proto: proto))
    }

    /// Where each counter lives among a tally's slots, and the label values they stand for.
    enum Layout {
        /// The question types CoreDNS names in its `type` label; any other is "other".
        static let typeNames = [
            "A", "AAAA", "ANY", "AXFR", "CNAME", "DNSKEY", "DS", "HTTPS", "IXFR", "MX", "NAPTR", "NS", "NSEC",
            "NSEC3", "PTR", "RRSIG", "SOA", "SRV", "SVCB", "TXT", "other",
        ]
        private static let typeCodes: [UInt16] = [1, 28, 255, 252, 5, 48, 43, 65, 251, 15, 35, 2, 47, 50, 12, 46, 6, 33, 64, 16]

        static func typeIndex(_ type: UInt16?) -> Int {
            guard let type, let index = typeCodes.firstIndex(of: type) else { return typeNames.count - 1 }
            return index
        }

        /// Who wrote a response, as CoreDNS's `plugin` label says it: the zones ("kubernetes"),
        /// the server itself (errors, refusals, rate limiting: ""), the forwarder ("forward"), its
        /// cache ("cache"), server-side search ("autopath").
        static let pluginNames = ["kubernetes", "", "forward", "cache", "autopath"]

        static func pluginIndex(_ path: AnswerPath, rcode: UInt8) -> Int {
            switch path {
            case .answerTable, .cache, .general: return rcode & 0x0F == 5 ? 1 : 0
            case .strict, .rateLimited: return 1
            case .forwarded: return 2
            case .forwardCache: return 3
            case .autopath: return 4
            }
        }

        /// CoreDNS's request duration buckets: 0.25 ms doubling up to 8.192 s.
        static let durationBounds: [UInt64] = (0..<16).map { 250_000 << UInt64($0) }
        /// CoreDNS's size buckets, in bytes.
        static let sizeBounds: [Int] = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16000, 32000, 48000, 64000]

        static let protocols = 2, families = 2, rcodes = 16
        static let requestBase = 0
        static let responseBase = requestBase + protocols * families * typeNames.count
        static let pathBase = responseBase + rcodes * pluginNames.count
        static let durationBase = pathBase + AnswerPath.allCases.count
        /// One slot a bound, one for beyond the last.
        static let durationSlots = durationBounds.count + 1
        static let durationSum = durationBase + durationSlots
        static let sizeSlots = sizeBounds.count + 1
        static let requestSizeBase = durationSum + 1
        static let responseSizeBase = requestSizeBase + protocols * (sizeSlots + 1)
        static let slotCount = responseSizeBase + protocols * (sizeSlots + 1)

        static func request(proto: Int, ipv6: Bool, type: Int) -> Int {
            requestBase + (proto * families + (ipv6 ? 1 : 0)) * typeNames.count + type
        }

        static func response(rcode: Int, plugin: Int) -> Int { responseBase + rcode * pluginNames.count + plugin }

        static func path(_ path: AnswerPath) -> Int {
            pathBase + AnswerPath.allCases.firstIndex(of: path)!
        }

        static func durationBucket(nanoseconds: UInt64) -> Int {
            // The first bound at or above the value: bounds double, so a shift finds it.
            var bucket = 0
            var bound: UInt64 = 250_000
            while bucket < durationBounds.count, nanoseconds > bound {
                bucket += 1
                bound <<= 1
            }
            return durationBase + bucket
        }

        static func requestSizeBucket(proto: Int, bytes: Int) -> Int {
            requestSizeBase + proto * (sizeSlots + 1) + sizeBucket(bytes)
        }

        static func requestSizeSum(proto: Int) -> Int { requestSizeBase + proto * (sizeSlots + 1) + sizeSlots }

        static func responseSizeBucket(proto: Int, bytes: Int) -> Int {
            responseSizeBase + proto * (sizeSlots + 1) + sizeBucket(bytes)
        }

        static func responseSizeSum(proto: Int) -> Int { responseSizeBase + proto * (sizeSlots + 1) + sizeSlots }

        private static func sizeBucket(_ bytes: Int) -> Int {
            var bucket = 0
            while bucket < sizeBounds.count, bytes > sizeBounds[bucket] { bucket += 1 }
            return bucket
        }
    }
}

/// Nanoseconds of the monotonic clock: the vDSO's clock_gettime, without the `Duration` arithmetic
/// of `ContinuousClock` on the query path.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}
