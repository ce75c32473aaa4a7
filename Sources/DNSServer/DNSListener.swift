import Atomics
import DNSWire
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A running UDP+TCP listener on one port: one UDP socket per event loop (SO_REUSEPORT spreads
/// datagrams across them) and one TCP accept socket whose connections spread over the group.
public final class DNSListener: Sendable {
    /// Why a listener could not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The bound port, the same for UDP and TCP.
    public var port: Int { localAddress.port ?? 0 }
    /// The IP address bound (a host name such as `localhost` appears resolved).
    public var host: String { localAddress.ipAddress ?? "" }
    /// The exact socket address both transports are bound to.
    public let localAddress: SocketAddress

    private let udpChannels: [any Channel]
    private let udpLoops: [UDPBatchLoop]
    private let tcpChannel: any Channel
    private let tcpConnections: TCPConnectionRegistry
    /// The group to shut down with the listener, when the listener created it.
    private let ownedGroup: MultiThreadedEventLoopGroup?
    private let isShutDown = ManagedAtomic(false)
    /// Opens when every listening socket has closed. It lives outside NIO because awaiting a
    /// channel's close future after the event loops shut down would never resume.
    private let allClosed = ClosedLatch()
    /// Opens when `shutdown()` has finished: sockets, connections and the event loops it owns.
    private let shutDown = ClosedLatch()
    private let logger: Logger

    private init(
        localAddress: SocketAddress, udpChannels: [any Channel], udpLoops: [UDPBatchLoop], tcpChannel: any Channel,
        tcpConnections: TCPConnectionRegistry, ownedGroup: MultiThreadedEventLoopGroup?, logger: Logger
    ) {
        self.localAddress = localAddress
        self.udpChannels = udpChannels
        self.udpLoops = udpLoops
        self.tcpChannel = tcpChannel
        self.tcpConnections = tcpConnections
        self.ownedGroup = ownedGroup
        self.logger = logger
        let channels = udpChannels + [tcpChannel]
        let remaining = ManagedAtomic(channels.count)
        for channel in channels {
            channel.closeFuture.whenComplete { [allClosed] _ in
                if remaining.loadThenWrappingDecrement(ordering: .acquiringAndReleasing) == 1 { allClosed.open() }
            }
        }
    }

    /// Binds UDP and TCP on the same port. With port 0, binds UDP on an ephemeral port first, then
    /// TCP on that same port number, and starts over on a new port if TCP's is taken.
    public static func start(
        configuration: DNSListenerConfiguration,
        responder: some DNSResponder,
        logger: Logger,
        group: MultiThreadedEventLoopGroup? = nil
    ) async throws -> DNSListener {
        let threads = max(1, configuration.threads)
        let ownedGroup = group == nil ? MultiThreadedEventLoopGroup(numberOfThreads: threads) : nil
        let eventLoops = Array((group ?? ownedGroup!).makeIterator())
        do {
            let requested = try SocketAddress.makeAddressResolvingHost(configuration.address.host, port: configuration.address.port)
            let attempts = configuration.address.port == 0 ? 5 : 1
            for attempt in 1...attempts {
                var udpChannels: [any Channel] = []
                var udpLoops: [UDPBatchLoop] = []
                let boundAddress: SocketAddress
                switch configuration.udpEngine {
                case .batch:
                    udpLoops = try bindBatchUDP(to: requested, sockets: threads, responder: responder, rateLimit: configuration.rateLimit, logger: logger)
                    boundAddress = try SocketAddress(ipAddress: requested.ipAddress!, port: udpLoops[0].port)
                case .nio:
                    udpChannels = try await bindUDP(
                        to: requested, eventLoops: eventLoops, sockets: threads, responder: responder, rateLimit: configuration.rateLimit, logger: logger)
                    boundAddress = udpChannels[0].localAddress!
                }
                let tcpConnections = TCPConnectionRegistry(limit: configuration.maxTCPConnections, perClientLimit: configuration.maxTCPConnectionsPerClient)
                do {
                    let tcpChannel = try await bindTCP(
                        to: boundAddress, group: group ?? ownedGroup!, configuration: configuration,
                        connections: tcpConnections, responder: responder, logger: logger)
                    for loop in udpLoops { loop.start() }
                    logger.info("DNS listener started", metadata: [
                        "address": "\(boundAddress)", "udpSockets": "\(max(udpChannels.count, udpLoops.count))",
                        "udpEngine": "\(configuration.udpEngine)",
                    ])
                    return DNSListener(
                        localAddress: boundAddress, udpChannels: udpChannels, udpLoops: udpLoops, tcpChannel: tcpChannel,
                        tcpConnections: tcpConnections, ownedGroup: ownedGroup, logger: logger)
                } catch let error as IOError where error.errnoCode == EADDRINUSE && attempt < attempts {
                    logger.debug("TCP port taken after UDP bound it; retrying on a new port", metadata: ["address": "\(boundAddress)"])
                    for channel in udpChannels { try? await channel.close() }
                    for loop in udpLoops { loop.closeUnstarted() }
                } catch {
                    for channel in udpChannels { try? await channel.close() }
                    for loop in udpLoops { loop.closeUnstarted() }
                    throw error
                }
            }
            throw StartError(description: "no port free for both UDP and TCP after \(attempts) attempts")
        } catch {
            try? await ownedGroup?.shutdownGracefully()
            throw error
        }
    }

    /// Closes every socket and connection, then the event loop group if the listener created it.
    /// A second call returns when the first has finished, so that whoever awaits it (the process
    /// about to exit) never cuts the shutdown short.
    public func shutdown() async throws {
        guard isShutDown.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return await shutDown.wait()
        }
        defer { shutDown.open() }
        for loop in udpLoops { await loop.stop() }
        for channel in udpChannels + [tcpChannel] {
            do {
                try await channel.close()
            } catch ChannelError.alreadyClosed {
            }
        }
        await tcpConnections.closeAll()
        try await ownedGroup?.shutdownGracefully()
        logger.info("DNS listener stopped", metadata: ["address": "\(localAddress)"])
    }

    /// Returns once every listening socket has closed.
    public func waitUntilClosed() async throws {
        await allClosed.wait()
    }

    /// One batch loop per thread, the first picking the port when `address` has port 0.
    private static func bindBatchUDP(
        to address: SocketAddress, sockets: Int, responder: some DNSResponder, rateLimit: ResponseRateLimit?, logger: Logger
    ) throws -> [UDPBatchLoop] {
        var loops: [UDPBatchLoop] = []
        var address = address
        do {
            for _ in 0..<sockets {
                let loop = try UDPBatchLoop(address: address, responder: responder, rateLimit: rateLimit, logger: logger)
                address = try SocketAddress(ipAddress: address.ipAddress!, port: loop.port)
                loops.append(loop)
            }
            return loops
        } catch {
            for loop in loops { loop.closeUnstarted() }
            throw error
        }
    }

    /// One socket per event loop, the first picking the port when `address` has port 0.
    private static func bindUDP(
        to address: SocketAddress, eventLoops: [any EventLoop], sockets: Int, responder: some DNSResponder,
        rateLimit: ResponseRateLimit?, logger: Logger
    ) async throws -> [any Channel] {
        var channels: [any Channel] = []
        do {
            var address = address
            for index in 0..<sockets {
                let channel = try await udpBootstrap(
                    eventLoop: eventLoops[index % eventLoops.count], responder: responder, rateLimit: rateLimit, logger: logger)
                    .bind(to: address).get()
                address = channel.localAddress!
                channels.append(channel)
            }
            return channels
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
    }

    private static func udpBootstrap(
        eventLoop: any EventLoop, responder: some DNSResponder, rateLimit: ResponseRateLimit?, logger: Logger
    ) -> DatagramBootstrap {
        // Vector reads split one receive buffer into `messagesPerSyscall` slots; each must hold a
        // whole datagram, so the buffer is sized for all of them.
        let messagesPerSyscall = 32
        let bytesPerDatagram = DNSTransport.udpReceiveSize
        // No SO_REUSEADDR on UDP (see UDPBatchLoop): it would let a client take this port as its source.
        return DatagramBootstrap(group: eventLoop)
            .channelOption(.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEPORT), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelOption(.datagramVectorReadMessageCount, value: messagesPerSyscall)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: messagesPerSyscall * bytesPerDatagram))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPQueryHandler(responder: responder, rateLimit: rateLimit, logger: logger))
                }
            }
    }

    private static func bindTCP(
        to address: SocketAddress, group: MultiThreadedEventLoopGroup, configuration: DNSListenerConfiguration,
        connections: TCPConnectionRegistry, responder: some DNSResponder, logger: Logger
    ) async throws -> any Channel {
        let idleTimeout = configuration.tcpIdleTimeout
        let maxQuerySize = min(configuration.maxTCPQuerySize, 65535)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                guard connections.admit(channel) else {
                    logger.debug("TCP connection refused: too many open, or too many from that client", metadata: ["remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                    return channel.eventLoop.makeFailedFuture(TCPConnectionRegistry.LimitReached())
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(TCPFrameDecoder(maxFrameLength: maxQuerySize)),
                        TCPQueryHandler(responder: responder, timeout: idleTimeout, logger: logger)
                    )
                }
            }
            .bind(to: address).get()
    }
}
