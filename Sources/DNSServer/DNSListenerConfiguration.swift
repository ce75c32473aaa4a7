import NIOCore

/// How one UDP+TCP listener binds and how much it lets TCP clients hold on to.
public struct DNSListenerConfiguration: Sendable {
    /// The host and port both transports bind; port 0 picks one free port for both.
    public var address: ListenAddress
    /// UDP sockets (each on its own event loop, sharing the port with SO_REUSEPORT), and the size
    /// of the event loop group when the listener creates its own.
    public var threads: Int
    /// A TCP connection closes when no whole query arrives for this long (since it opened, the
    /// last query, or the client last read a backlog of answers), so idle clients cannot pin
    /// connection slots and a trickle of bytes cannot extend the time.
    public var tcpIdleTimeout: TimeAmount
    /// Connections accepted beyond this many open ones are closed at once.
    public var maxTCPConnections: Int
    /// Connections from one client address beyond this many open ones are closed at once, so one
    /// client cannot take every slot of `maxTCPConnections`.
    public var maxTCPConnectionsPerClient: Int
    /// The largest TCP query accepted; a longer length prefix closes the connection before its
    /// body is buffered. At most 65535, which the two-byte prefix cannot exceed anyway.
    public var maxTCPQuerySize: Int
    /// What serves UDP: NIO channels, or (Linux) a thread per socket with recvmmsg/sendmmsg.
    public var udpEngine: UDPEngine
    /// Response rate limiting for UDP clients; nil (the default) answers every query.
    public var rateLimit: ResponseRateLimit?

    public init(
        address: ListenAddress,
        threads: Int = System.coreCount,
        tcpIdleTimeout: TimeAmount = .seconds(10),
        maxTCPConnections: Int = 1024,
        maxTCPConnectionsPerClient: Int = 32,
        maxTCPQuerySize: Int = 65535,
        udpEngine: UDPEngine = .default,
        rateLimit: ResponseRateLimit? = nil
    ) {
        self.address = address
        self.threads = threads
        self.tcpIdleTimeout = tcpIdleTimeout
        self.maxTCPConnections = maxTCPConnections
        self.maxTCPConnectionsPerClient = maxTCPConnectionsPerClient
        self.maxTCPQuerySize = maxTCPQuerySize
        self.udpEngine = udpEngine
        self.rateLimit = rateLimit
    }
}

/// How UDP datagrams reach the responder.
public enum UDPEngine: String, Sendable, CaseIterable {
    /// A SwiftNIO datagram channel per event loop (vector reads, batched writes).
    case nio
    /// A thread per socket calling recvmmsg/sendmmsg on buffers allocated once (Linux only): no
    /// channel pipeline per datagram.
    case batch

    #if os(Linux)
    public static let `default` = UDPEngine.batch
    #else
    public static let `default` = UDPEngine.nio
    #endif
}
