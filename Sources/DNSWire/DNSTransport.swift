/// How a query arrived. It decides how large the response may be: UDP responses are cut to what
/// the client can take (and truncated), TCP responses are whole.
public enum DNSTransport: Sendable, Hashable {
    case udp
    case tcp

    /// Our EDNS UDP payload size (DNS Flag Day 2020): advertised, and the most we send over UDP.
    public static let ourUDPPayloadSize: UInt16 = 1232
    /// Without EDNS a UDP response is at most 512 bytes (RFC 1035).
    public static let classicUDPLimit = 512
    /// The largest query either UDP engine reads; a longer datagram is not a DNS query we answer.
    public static let largestUDPQuery = 4096
    /// What a UDP engine asks the kernel for per datagram: one byte more than the largest query,
    /// so a longer datagram, which the kernel cuts to this size, shows as too long instead of
    /// passing for a whole query (NIO does not report MSG_TRUNC).
    public static let udpReceiveSize = largestUDPQuery + 1

    /// The most bytes a response may take: 65535 over TCP; over UDP 512 without EDNS, else the
    /// client's EDNS payload size kept between 512 and ours.
    @inlinable
    public func responseLimit(clientPayloadSize: UInt16?) -> Int {
        switch self {
        case .tcp:
            return 65535
        case .udp:
            guard let clientPayloadSize else { return Self.classicUDPLimit }
            return Int(min(max(clientPayloadSize, 512), Self.ourUDPPayloadSize))
        }
    }

    /// The largest response this transport ever carries, whatever the client asked: the size a
    /// response buffer must have.
    @inlinable
    public var largestResponse: Int {
        switch self {
        case .udp: return Int(Self.ourUDPPayloadSize)
        case .tcp: return 65535
        }
    }
}
