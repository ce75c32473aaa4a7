import DNSWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Response rate limiting for UDP, as Knot DNS and BIND offer it: a UDP source address can be
/// forged, so a server that answers everything can be made to send its answers at a victim.
/// Each client netblock (IPv4 /24, IPv6 /56) may receive `responsesPerSecond` responses a second
/// (a bucket refilled continuously, holding at most one second's worth); past that, every
/// `slip`th response goes out truncated (TC set, the question only), so a real client retries
/// over TCP, whose handshake proves its address, and the others are dropped. TCP is not limited.
public struct ResponseRateLimit: Sendable, Hashable {
    public var responsesPerSecond: Int
    /// Every `slip`th limited response is sent truncated; 0 drops them all, 1 truncates them all.
    public var slip: Int

    public init(responsesPerSecond: Int, slip: Int = 2) {
        self.responsesPerSecond = responsesPerSecond
        self.slip = slip
    }
}

/// What the rate limiter decides for one response.
enum RateLimitDecision: Equatable {
    case send
    case sendTruncated
    case drop
}

/// The buckets of one thread (each UDP socket's loop has its own, so no locks). Direct-mapped on
/// a hash of the netblock: two netblocks that collide share a bucket, which only makes limiting
/// stricter (a bucket that reset on a collision would let a flood alternate its way around it).
///
/// With several UDP sockets a netblock whose clients hash to different sockets gets the rate once
/// per socket (the kernel spreads by the 4-tuple).
final class ResponseRateLimiter {
    private struct Bucket {
        var used = false
        /// Responses it may still send, scaled by `scale` so refills stay in integers.
        var tokens: Int64 = 0
        var refilled: Int64 = 0
        var limited: Int64 = 0
    }

    private static let scale: Int64 = 1_000
    private let limit: ResponseRateLimit
    private var buckets: [Bucket]
    private let mask: Int

    init(_ limit: ResponseRateLimit, buckets: Int = 16384) {
        self.limit = limit
        self.buckets = Array(repeating: Bucket(), count: buckets)
        self.mask = buckets - 1
    }

    /// Monotonic milliseconds, read once per batch of datagrams by the caller.
    static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// Spends one response of `netblock`'s bucket at time `now` (milliseconds).
    func decide(netblock: UInt64, now: Int64) -> RateLimitDecision {
        var hasher = NameHasher()
        hasher.add(word: netblock)
        let index = Int(truncatingIfNeeded: hasher.value) & mask
        let capacity = Int64(limit.responsesPerSecond) * Self.scale
        if !buckets[index].used {
            buckets[index] = Bucket(used: true, tokens: capacity, refilled: now)
        }
        // Refill: `responsesPerSecond` per 1000 ms, scaled; at most one second's worth.
        let elapsed = max(0, now - buckets[index].refilled)
        buckets[index].tokens = min(capacity, buckets[index].tokens + elapsed * Int64(limit.responsesPerSecond))
        buckets[index].refilled = now
        if buckets[index].tokens >= Self.scale {
            buckets[index].tokens -= Self.scale
            return .send
        }
        buckets[index].limited += 1
        guard limit.slip > 0, buckets[index].limited % Int64(limit.slip) == 0 else { return .drop }
        return .sendTruncated
    }

    /// The netblock of a client address: IPv4 /24, IPv6 /56, with the family in the top bit.
    static func netblock(of address: UnsafePointer<sockaddr_storage>) -> UInt64 {
        switch Int32(address.pointee.ss_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { netblock(ipv4: $0.pointee.sin_addr) }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { netblock(ipv6: $0.pointee.sin6_addr) }
        default:
            return 0
        }
    }

    static func netblock(of address: SocketAddress) -> UInt64 {
        switch address {
        case .v4(let v4): return netblock(ipv4: v4.address.sin_addr)
        case .v6(let v6): return netblock(ipv6: v6.address.sin6_addr)
        default: return 0
        }
    }

    private static func netblock(ipv4 address: in_addr) -> UInt64 {
        UInt64(UInt32(bigEndian: address.s_addr) >> 8)
    }

    private static func netblock(ipv6 address: in6_addr) -> UInt64 {
        withUnsafeBytes(of: address) { bytes in
            var prefix: UInt64 = 1 << 63
            for index in 0..<7 { prefix |= UInt64(bytes[index]) << (8 * (6 - index)) }
            return prefix
        }
    }
}

extension DNSBatchResponder {
    /// Answers a UDP query, under `limiter` when there is one: the one place both UDP engines
    /// apply the limit. `client` is asked only when limiting, `later` only for a deferred response.
    func respondOverUDP(
        to query: UnsafeRawBufferPointer, _ read: ReadQuery, into output: UnsafeMutableRawBufferPointer,
        limiter: ResponseRateLimiter?, client: () -> UInt64, now: Int64, later: () -> DeferredReply?
    ) -> DNSResponse? {
        switch limiter?.decide(netblock: client(), now: now) ?? .send {
        case .send:
            return respond(to: query, read, over: .udp, into: output, later: later)
        case .drop:
            return nil
        case .sendTruncated:
            return read.view?.writeTruncated(to: query, into: output).map { DNSResponse(length: $0, path: .rateLimited) }
        }
    }
}

extension DNSQueryView {
    /// The minimal truncated response to this query: TC set, the question, no records (and our
    /// OPT record when the query had one), which invites the client to retry over TCP.
    func writeTruncated(to query: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        var header = DNSHeader.response(to: DNSHeader(), responseCode: .noError, authoritative: false)
        header.isTruncated = true  // RD and CD are echoed by writeResponse
        return writeResponse(
            to: query, flags: header.flags, answerCount: 0, authorityCount: 0, additionalCount: 0,
            body: UnsafeRawBufferPointer(start: nil, count: 0), into: output)
    }
}
