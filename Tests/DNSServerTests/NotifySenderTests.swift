import DNSServer
import DNSWire
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// NOTIFY to a stand-in secondary on loopback: a burst of serials is one NOTIFY in flight and
/// then the newest, and a NOTIFY nobody answers is sent again a bounded number of times.
@Suite struct NotifySenderTests {
    /// Receives NOTIFYs and answers each after `replyDelay` (never, when nil), or holds every
    /// reply until `release()` when `holdsReplies`: a NOTIFY stays in flight exactly as long as a
    /// test needs, however slow the machine.
    final class FakeSecondary: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>

        let replyDelay: TimeAmount?
        let holdsReplies: Bool
        /// The serial of each NOTIFY received, in order.
        let serials = Mutex<[UInt32]>([])
        private let held = Mutex<[@Sendable () -> Void]>([])

        init(replyDelay: TimeAmount?, holdsReplies: Bool = false) {
            self.replyDelay = replyDelay
            self.holdsReplies = holdsReplies
        }

        /// Sends every reply held so far.
        func release() {
            for reply in held.withLock({ held in defer { held = [] }; return held }) { reply() }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = Self.unwrapInboundIn(data)
            guard let message = try? DNSMessageDecoder.decode(envelope.data), message.header.opcode == .notify,
                case .soa(let soa)? = message.answers.first?.data
            else { return }
            serials.withLock { $0.append(soa.serial) }
            guard holdsReplies || replyDelay != nil else { return }
            var header = DNSHeader.response(to: message.header, responseCode: .noError, authoritative: true)
            header.opcode = .notify
            let reply = ByteBuffer(bytes: DNSMessageEncoder.encode(DNSMessage(header: header, questions: message.questions)))
            let channel = context.channel
            let send: @Sendable () -> Void = {
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: reply), promise: nil)
            }
            if let replyDelay {
                context.eventLoop.scheduleTask(in: replyDelay, send)
            } else {
                held.withLock { $0.append(send) }
            }
        }
    }

    static func soa(serial: UInt32) throws -> ResourceRecord {
        let data = StartOfAuthority(
            primaryNameServer: try DNSName("ns.dns.cluster.local"), responsibleMailbox: try DNSName("hostmaster.cluster.local"),
            serial: serial, refresh: 7200, retry: 1800, expire: 86400, minimum: 5)
        return ResourceRecord(name: try DNSName("cluster.local"), ttl: 5, data: .soa(data))
    }

    static func withSecondary(
        replyDelay: TimeAmount?, holdsReplies: Bool = false, timeouts: [TimeAmount], _ body: (NotifySender, FakeSecondary) async throws -> Void
    ) async throws {
        let secondary = FakeSecondary(replyDelay: replyDelay, holdsReplies: holdsReplies)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(secondary) } }
            .bind(host: "127.0.0.1", port: 0).get()
        let sender = try await NotifySender.start(
            targets: [channel.localAddress!], sourceHost: "127.0.0.1", group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "notify-test"), timeouts: timeouts)
        do {
            try await body(sender, secondary)
        } catch {
            await sender.stop()
            try? await channel.close()
            throw error
        }
        await sender.stop()
        try await channel.close()
    }

    /// Waits up to 5 s for the secondary to have received `count` NOTIFYs.
    static func received(_ count: Int, by secondary: FakeSecondary) async throws {
        for _ in 0..<500 where secondary.serials.withLock({ $0.count }) < count {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func aBurstOfSerialsIsOneNotifyInFlightThenTheNewest() async throws {
        try await Self.withSecondary(replyDelay: nil, holdsReplies: true, timeouts: [.seconds(60)]) { sender, secondary in
            sender.notify([try Self.soa(serial: 1)])
            try await Self.received(1, by: secondary)
            // Serial 1 is in flight (its reply held): these wait, and only the newest goes once it is answered.
            for serial in UInt32(2)...5 { sender.notify([try Self.soa(serial: serial)]) }
            try await Task.sleep(for: .milliseconds(100))
            secondary.release()
            try await Self.received(2, by: secondary)
            try await Task.sleep(for: .milliseconds(300))
            #expect(secondary.serials.withLock { $0 } == [1, 5])
        }
    }

    @Test func aNotifyNobodyAnswersIsSentAgainABoundedNumberOfTimes() async throws {
        try await Self.withSecondary(replyDelay: nil, timeouts: [.milliseconds(50), .milliseconds(50), .milliseconds(50)]) { sender, secondary in
            sender.notify([try Self.soa(serial: 7)])
            try await Self.received(3, by: secondary)
            try await Task.sleep(for: .milliseconds(300))
            #expect(secondary.serials.withLock { $0 } == [7, 7, 7])
        }
    }
}
