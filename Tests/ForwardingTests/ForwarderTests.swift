import DNSWire
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Forwarding

/// An upstream on a loopback port that answers each query (and who sent it) with whatever
/// `reply` makes of it: several datagrams, or none.
/// The event loops of these tests' upstreams and forwarders: their own, so that a test elsewhere in
/// the process that keeps the shared singleton's loops busy cannot make a 2 s upstream timeout fire.
let testEventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 2)

final class FakeUpstream: Sendable {
    let channel: any Channel
    var address: UpstreamAddress { UpstreamAddress(channel.localAddress!) }

    init(reply: @escaping @Sendable (DNSMessage, SocketAddress) -> [DNSMessage]) async throws {
        channel = try await DatagramBootstrap(group: testEventLoops)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(reply: reply)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let reply: @Sendable (DNSMessage, SocketAddress) -> [DNSMessage]

        init(reply: @escaping @Sendable (DNSMessage, SocketAddress) -> [DNSMessage]) { self.reply = reply }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = Self.unwrapInboundIn(data)
            guard let query = try? DNSMessageDecoder.decode(envelope.data) else { return }
            for message in reply(query, envelope.remoteAddress) {
                let bytes = ByteBuffer(bytes: DNSMessageEncoder.encode(message))
                context.writeAndFlush(Self.wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: bytes)), promise: nil)
            }
        }
    }
}

/// The reply a real upstream would give to `query`: one A record.
func answer(to query: DNSMessage, id: UInt16? = nil, name: DNSName? = nil, address: UInt32 = 0x0a00_0001) -> DNSMessage {
    var header = DNSHeader.response(to: query.header, responseCode: .noError, authoritative: false, recursionAvailable: true)
    header.id = id ?? query.header.id
    let question = DNSQuestion(name: name ?? query.questions[0].name, type: query.questions[0].type)
    return DNSMessage(header: header, questions: [question], answers: [ResourceRecord(name: question.name, ttl: 60, data: .a(address))])
}

/// `resolve` as an async call.
func resolve(_ forwarder: Forwarder, _ name: String) async throws -> ForwardedAnswer {
    let question = DNSQuestion(name: try DNSName(name), type: .a)
    return await withCheckedContinuation { continuation in
        forwarder.resolve(question, overTCP: false) { continuation.resume(returning: $0) }
    }
}

@Suite(.serialized) struct ForwarderTests {
    let logger = Logger(label: "test")

    @Test func repliesWithTheWrongIDOrQuestionAreDroppedAndTheRightOneIsTaken() async throws {
        let upstream = try await FakeUpstream { query, _ in
            [
                answer(to: query, id: query.header.id &+ 1, address: 0x0101_0101),  // a forgery guessing the ID wrong
                answer(to: query, name: try! DNSName("evil.example"), address: 0x0202_0202),  // the wrong question
                answer(to: query),
            ]
        }
        // The replies come at once; the long deadline is for a machine loaded by the other suites
        // (the default 5 s ran out once in CI), not for the upstream.
        let forwarder = try Forwarder(
            configuration: ForwardingConfiguration(upstreams: [upstream.address], attemptTimeout: .seconds(30), deadline: .seconds(30)),
            group: testEventLoops, logger: logger)
        let result = try await resolve(forwarder, "www.example.com")
        #expect(result.source == .upstream)
        #expect(result.answers.map(\.data) == [.a(0x0a00_0001)])
        forwarder.shutdown()
        await upstream.close()
    }

    @Test func aReplyFromAnotherAddressIsNotTaken() async throws {
        // The upstream stays silent; an impostor on another port sends the right reply (ID and
        // all) to the port the query came from. The connected socket never takes it: a timeout.
        let impostor = try await FakeUpstream { _, _ in [] }
        let silent = try await FakeUpstream { query, sender in
            let forged = ByteBuffer(bytes: DNSMessageEncoder.encode(answer(to: query)))
            impostor.channel.writeAndFlush(AddressedEnvelope(remoteAddress: sender, data: forged), promise: nil)
            return []
        }
        let forwarder = try Forwarder(
            configuration: ForwardingConfiguration(
                upstreams: [silent.address], attemptTimeout: .milliseconds(300), deadline: .milliseconds(300),
                cache: ForwardCacheConfiguration(staleWindow: .zero)),
            group: testEventLoops, logger: logger)
        let question = DNSQuestion(name: try DNSName("www.example.com"), type: .a)
        async let result = withCheckedContinuation { continuation in
            forwarder.resolve(question, overTCP: false) { continuation.resume(returning: $0) }
        }
        #expect(await result.source == .failed)
        forwarder.shutdown()
        await silent.close()
        await impostor.close()
    }

    @Test func queriesOverTheInFlightBoundAreRefusedAndCounted() async throws {
        let silent = try await FakeUpstream { _, _ in [] }
        let forwarder = try Forwarder(
            configuration: ForwardingConfiguration(upstreams: [silent.address], attemptTimeout: .milliseconds(500), deadline: .milliseconds(500), maxConcurrent: 1),
            group: testEventLoops, logger: logger)
        async let first = resolve(forwarder, "one.example")
        try await Task.sleep(for: .milliseconds(50))
        let second = try await resolve(forwarder, "two.example")
        #expect(second.responseCode == .refused && second.source == .overLimit)
        #expect(forwarder.statistics.concurrencyRejects == 1)
        #expect(try await first.source == .failed)
        forwarder.shutdown()
        await silent.close()
    }

    @Test func aSecondQueryIsACacheHitAndCounted() async throws {
        let asked = Mutex(0)
        let upstream = try await FakeUpstream { query, _ in
            asked.withLock { $0 += 1 }
            return [answer(to: query)]
        }
        // Generous limits: on a machine loaded by the other suites the first reply can be slow.
        let forwarder = try Forwarder(
            configuration: ForwardingConfiguration(upstreams: [upstream.address], attemptTimeout: .seconds(10), deadline: .seconds(10)),
            group: testEventLoops, logger: logger)
        let first = try await resolve(forwarder, "www.example.com")
        #expect(first.source == .upstream, "\(first)")
        let cached = forwarder.cachedAnswer(to: DNSQuestion(name: try DNSName("WWW.example.com"), type: .a))
        #expect(cached?.source == .cache)
        #expect(asked.withLock { $0 } == 1)
        #expect(forwarder.statistics.cacheHits == 1 && forwarder.statistics.cacheMisses == 1 && forwarder.cacheEntries == 1)
        forwarder.shutdown()
        await upstream.close()
    }
}
