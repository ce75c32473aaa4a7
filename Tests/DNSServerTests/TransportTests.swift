import DNSServer
import DNSWire
import Logging
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Shared pieces of the transport tests: a responder that needs no zone, plain POSIX client
// sockets with a receive timeout on every read, and a listener that is always shut down.

/// Answers without knowing DNS: echoes the query with QR set and byte 3 naming the transport
/// (`u` or `t`); a query whose byte 3 is `TestResponder.sizeRequest` gets a response of the size
/// in bytes 4–5; a query that already has QR set is dropped (nil).
struct TestResponder: DNSResponder, DNSBatchResponder {
    static let sizeRequest: UInt8 = 0x5A

    func batch() -> any DNSBatchResponder { self }

    func respond(to query: UnsafeRawBufferPointer, _ read: ReadQuery, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> DNSResponse? {
        guard query.count >= 4, query[2] & 0x80 == 0 else { return nil }
        var length = query.count
        if query[3] == Self.sizeRequest, query.count >= 6 {
            length = Int(query[4]) << 8 | Int(query[5])
            guard length <= output.count else { return nil }
            // Written straight into the output: these tests send many large answers.
            output.withMemoryRebound(to: UInt8.self) { bytes in
                for index in 0..<length { bytes[index] = UInt8(truncatingIfNeeded: index) }
            }
            for index in 0..<min(4, length) { output[index] = query[index] }
        } else {
            guard length <= output.count else { return nil }
            output.copyMemory(from: query)
        }
        if length >= 4 {
            output[2] |= 0x80
            output[3] = transport == .udp ? UInt8(ascii: "u") : UInt8(ascii: "t")
        }
        return DNSResponse(length: length, path: .general)
    }
}

enum TestMessages {
    /// A 16-byte query-shaped message with the given ID.
    static func query(id: UInt16) -> [UInt8] {
        [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00] + Array(repeating: 0, count: 8) + Array("ping".utf8)
    }

    /// A message the test responder answers with `size` bytes.
    static func sizeRequest(id: UInt16, size: Int) -> [UInt8] {
        [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, TestResponder.sizeRequest, UInt8(size >> 8), UInt8(size & 0xFF)] + Array(repeating: 0, count: 6)
    }

    /// A message with QR already set, which the responder drops.
    static func dropped(id: UInt16) -> [UInt8] {
        var bytes = query(id: id)
        bytes[2] |= 0x80
        return bytes
    }

    static func id(of response: [UInt8]) -> UInt16 {
        UInt16(response[0]) << 8 | UInt16(response[1])
    }

    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }
}

/// What a blocking read on a test socket came back with.
enum SocketRead: Equatable {
    case bytes([UInt8])
    case timedOut
    case closed
}

/// A blocking POSIX client socket, closed on deinit; every read gives up after its timeout.
final class TestSocket {
    let descriptor: Int32

    private init(family: Int32, type: Int32) throws {
        descriptor = socket(family, type, 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
    }

    deinit { close(descriptor) }

    static func udp(for server: SocketAddress, from source: String? = nil) throws -> TestSocket {
        let socket = try TestSocket(family: Int32(server.protocol.rawValue), type: Self.datagram)
        if let source { try socket.bind(to: source) }
        return socket
    }

    private func bind(to source: String) throws {
        let local = try SocketAddress(ipAddress: source, port: 0)
        let bound = local.withSockAddr { Glibc.bind(descriptor, $0, socklen_t($1)) }
        guard bound == 0 else { throw IOError(errnoCode: errno, reason: "bind") }
    }

    /// - Parameter source: the local IPv4 address to connect from (any of 127/8 works on Linux),
    ///   so a test can be several clients.
    static func tcp(connectingTo server: SocketAddress, from source: String? = nil) throws -> TestSocket {
        let socket = try TestSocket(family: Int32(server.protocol.rawValue), type: Self.stream)
        if let source { try socket.bind(to: source) }
        let result = server.withSockAddr { connect(socket.descriptor, $0, socklen_t($1)) }
        guard result == 0 else { throw IOError(errnoCode: errno, reason: "connect") }
        return socket
    }

    func send(_ bytes: [UInt8], to server: SocketAddress) throws {
        let sent = bytes.withUnsafeBytes { buffer in
            server.withSockAddr { sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, socklen_t($1)) }
        }
        guard sent == bytes.count else { throw IOError(errnoCode: errno, reason: "sendto") }
    }

    func sendAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { systemSend(descriptor, $0.baseAddress, $0.count, Self.noSignal) }
            guard sent > 0 else { throw IOError(errnoCode: errno, reason: "send") }
            offset += sent
        }
    }

    /// Closes the sending direction; the server sees end of stream but can still answer.
    func shutdownWrite() {
        _ = shutdown(descriptor, Int32(SHUT_WR))
    }

    /// One datagram, or up to `maxBytes` of a stream.
    func receive(maxBytes: Int = 65536, timeout: Duration = .seconds(5)) -> SocketRead {
        setReceiveTimeout(timeout)
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count > 0 { return .bytes(Array(buffer[0..<count])) }
        if count == 0 { return .closed }
        return errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .closed   // ECONNRESET counts as closed
    }

    /// Exactly `count` bytes of a stream, or how it ended first.
    func receive(exactly count: Int, timeout: Duration = .seconds(5)) -> SocketRead {
        var collected: [UInt8] = []
        while collected.count < count {
            switch receive(maxBytes: count - collected.count, timeout: timeout) {
            case .bytes(let bytes): collected += bytes
            case let ended: return ended
            }
        }
        return .bytes(collected)
    }

    /// One length-prefixed DNS message from a stream, without its prefix.
    func receiveFrame(timeout: Duration = .seconds(5)) -> SocketRead {
        let prefixRead = receive(exactly: 2, timeout: timeout)
        guard case .bytes(let prefix) = prefixRead else { return prefixRead }
        return receive(exactly: Int(prefix[0]) << 8 | Int(prefix[1]), timeout: timeout)
    }

    /// Reads until the peer closes, discarding data; `.timedOut` if it stays open.
    func waitForClose(timeout: Duration = .seconds(2)) -> SocketRead {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            switch receive(timeout: deadline - ContinuousClock.now) {
            case .bytes: continue
            case let ended: return ended
            }
        }
        return .timedOut
    }

    private func setReceiveTimeout(_ timeout: Duration) {
        let microseconds = max(1000, timeout.components.seconds * 1_000_000 + timeout.components.attoseconds / 1_000_000_000_000)
        var value = timeval(tv_sec: Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    #if canImport(Glibc)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    private static let datagram = Int32(SOCK_DGRAM.rawValue)
    private static let stream = Int32(SOCK_STREAM.rawValue)
    #else
    private static let noSignal: Int32 = 0
    private static let datagram = SOCK_DGRAM
    private static let stream = SOCK_STREAM
    #endif
}

#if canImport(Glibc)
private let systemSend = Glibc.send
#else
private let systemSend = Darwin.send
#endif

enum TestListener {
    static let quietLogger = Logger(label: "transport-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func configuration(_ address: String = "127.0.0.1:0", threads: Int = 1, udpEngine: UDPEngine = .default) -> DNSListenerConfiguration {
        DNSListenerConfiguration(address: ListenAddress(address)!, threads: threads, udpEngine: udpEngine)
    }

    /// Runs `body` against a listener on the shared event loop group and always shuts it down.
    static func with<Result>(
        _ configuration: DNSListenerConfiguration = configuration(),
        group: MultiThreadedEventLoopGroup? = .singleton,
        responder: any DNSResponder = TestResponder(),
        _ body: (DNSListener) async throws -> Result
    ) async throws -> Result {
        let listener = try await DNSListener.start(configuration: configuration, responder: responder, logger: quietLogger, group: group)
        do {
            let result = try await body(listener)
            try await listener.shutdown()
            return result
        } catch {
            try? await listener.shutdown()
            throw error
        }
    }
}

/// The listener as a whole: one port for both transports, several UDP sockets, address
/// families, and a shutdown that really closes.
@Suite struct TransportListenerTests {
    @Test func portZeroBindsUDPAndTCPOnTheSamePort() async throws {
        try await TestListener.with { listener in
            #expect(listener.port > 0)
            #expect(listener.localAddress.port == listener.port)
            let udp = try TestSocket.udp(for: listener.localAddress)
            try udp.send(TestMessages.query(id: 1), to: listener.localAddress)
            guard case .bytes(let udpResponse) = udp.receive() else { Issue.record("no UDP response"); return }
            #expect(udpResponse[3] == UInt8(ascii: "u"))

            let tcp = try TestSocket.tcp(connectingTo: listener.localAddress)
            try tcp.sendAll(TestMessages.framed(TestMessages.query(id: 2)))
            guard case .bytes(let tcpResponse) = tcp.receiveFrame() else { Issue.record("no TCP response"); return }
            #expect(tcpResponse[3] == UInt8(ascii: "t"))
        }
    }

    @Test func twoThreadsShareThePortThroughSOReusePortAndAnswerEveryClient() async throws {
        // Its own group of two loops, created and shut down by the listener.
        try await TestListener.with(TestListener.configuration(threads: 2), group: nil) { listener in
            let clients = try (0..<8).map { _ in try TestSocket.udp(for: listener.localAddress) }
            for (index, client) in clients.enumerated() {
                try client.send(TestMessages.query(id: UInt16(index)), to: listener.localAddress)
            }
            for (index, client) in clients.enumerated() {
                guard case .bytes(let response) = client.receive() else { Issue.record("client \(index) got no response"); continue }
                #expect(TestMessages.id(of: response) == UInt16(index))
            }
        }
    }

    @Test func bindsIPv6Loopback() async throws {
        try await TestListener.with(TestListener.configuration("[::1]:0")) { listener in
            #expect(listener.host == "::1")
            let udp = try TestSocket.udp(for: listener.localAddress)
            try udp.send(TestMessages.query(id: 6), to: listener.localAddress)
            guard case .bytes(let response) = udp.receive() else { Issue.record("no UDP response over IPv6"); return }
            #expect(TestMessages.id(of: response) == 6)
            let tcp = try TestSocket.tcp(connectingTo: listener.localAddress)
            try tcp.sendAll(TestMessages.framed(TestMessages.query(id: 7)))
            guard case .bytes(let framed) = tcp.receiveFrame() else { Issue.record("no TCP response over IPv6"); return }
            #expect(TestMessages.id(of: framed) == 7)
        }
    }

    @Test func resolvesLocalhost() async throws {
        try await TestListener.with(TestListener.configuration("localhost:0")) { listener in
            #expect(["127.0.0.1", "::1"].contains(listener.host))
            let udp = try TestSocket.udp(for: listener.localAddress)
            try udp.send(TestMessages.query(id: 8), to: listener.localAddress)
            #expect(udp.receive() != .timedOut)
        }
    }

    /// dig (libisc) binds a random source port with SO_REUSEADDR. Had the listener set it too, Linux
    /// would let dig bind the listener's own port, and dig's query would come back to dig unanswered.
    @Test(arguments: UDPEngine.allCases)
    func aClientCannotBindTheListenersUDPPortAsItsSource(engine: UDPEngine) async throws {
        try await TestListener.with(TestListener.configuration(udpEngine: engine)) { listener in
            let client = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            #expect(client >= 0)
            defer { close(client) }
            var one: Int32 = 1
            setsockopt(client, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let address = try SocketAddress(ipAddress: "127.0.0.1", port: listener.port)
            let bound = address.withSockAddr { Glibc.bind(client, $0, socklen_t($1)) }
            #expect(bound == -1 && errno == EADDRINUSE, "a SO_REUSEADDR client bound the listener's port \(listener.port)")
        }
    }

    @Test func aPortInUseFailsToStart() async throws {
        try await TestListener.with { first in
            let taken = TestListener.configuration("127.0.0.1:\(first.port)")
            await #expect(throws: (any Error).self) {
                let second = try await DNSListener.start(configuration: taken, responder: TestResponder(), logger: TestListener.quietLogger, group: .singleton)
                try await second.shutdown()
            }
        }
    }

    @Test func shutdownClosesSocketsAndOpenConnections() async throws {
        let listener = try await DNSListener.start(
            configuration: TestListener.configuration(), responder: TestResponder(), logger: TestListener.quietLogger, group: .singleton)
        let tcp = try TestSocket.tcp(connectingTo: listener.localAddress)
        try tcp.sendAll(TestMessages.framed(TestMessages.query(id: 1)))
        #expect(tcp.receiveFrame() != .timedOut)

        try await listener.shutdown()
        try await listener.waitUntilClosed()
        try await listener.shutdown()   // a second shutdown is harmless
        #expect(tcp.waitForClose() == .closed)
        let udp = try TestSocket.udp(for: listener.localAddress)
        try udp.send(TestMessages.query(id: 2), to: listener.localAddress)
        #expect(udp.receive(timeout: .milliseconds(200)) != .bytes(TestResponder().expectedEcho(of: TestMessages.query(id: 2), over: .udp)))
    }
}

extension TestResponder {
    /// What the responder sends back for `query`, for exact comparisons.
    func expectedEcho(of query: [UInt8], over transport: DNSTransport) -> [UInt8] {
        Array(respond(to: ByteBuffer(bytes: query), over: transport, allocator: ByteBufferAllocator())!.0.readableBytesView)
    }
}
