import DNSWire
import NIOCore
import NIOPosix

/// One query to one upstream and the reply that belongs to it. Each exchange has a socket of its
/// own, connected to the upstream: a new random source port per query (the kernel's ephemeral
/// choice) next to a random ID, and the kernel itself drops datagrams from any other address.
/// What still arrives is checked again (source, ID, question) and dropped when it does not match,
/// so a forged reply has to guess both ID and port within the query's lifetime (RFC 5452).
enum UpstreamExchange {
    /// The largest reply we ask for over UDP (DNS Flag Day 2020), as our own clients get.
    static let payloadSize = DNSTransport.ourUDPPayloadSize

    /// Sends `question` (recursion desired, EDNS with our payload size) and waits at most
    /// `timeout` for its reply, over UDP or TCP.
    static func exchange(
        _ question: DNSQuestion, with upstream: SocketAddress, overTCP: Bool, timeout: Duration, group: any EventLoopGroup
    ) async throws(ForwardingError) -> DNSMessage {
        let id = UInt16.random(in: .min ... .max)
        let query = DNSMessage.query(id: id, name: question.name, type: question.type, edns: EDNS(udpPayloadSize: payloadSize))
        var bytes = ByteBufferAllocator().buffer(capacity: 512)
        DNSMessageEncoder.encode(DNSMessage(header: query.header, questions: [question], edns: query.edns), into: &bytes)
        let expected = ReplyExpectation(id: id, question: question, source: upstream)
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: DNSMessage.self)
        let timeAmount = TimeAmount(timeout)
        do {
            if overTCP {
                let channel = try await ClientBootstrap(group: eventLoop)
                    .connectTimeout(timeAmount)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandlers(
                                ByteToMessageHandler(TCPFrameDecoder()),
                                UpstreamReplyHandler<ByteBuffer>(expected: expected, promise: promise, timeout: timeAmount) { ($0, nil) })
                        }
                    }
                    .connect(to: upstream).get()
                var framed = channel.allocator.buffer(capacity: bytes.readableBytes + 2)
                framed.writeInteger(UInt16(bytes.readableBytes))
                framed.writeImmutableBuffer(bytes)
                channel.writeAndFlush(framed, promise: nil)
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            } else {
                let channel = try await DatagramBootstrap(group: eventLoop)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                UpstreamReplyHandler<AddressedEnvelope<ByteBuffer>>(expected: expected, promise: promise, timeout: timeAmount) {
                                    ($0.data, $0.remoteAddress)
                                })
                        }
                    }
                    .connect(to: upstream).get()
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: upstream, data: bytes), promise: nil)
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            }
        } catch {
            let failure = ForwardingError(.network, "cannot reach it (\(error))", location: "\(UpstreamAddress(upstream))")
            promise.fail(failure)
            throw failure
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as ForwardingError {
            throw error
        } catch {
            throw ForwardingError(.network, "\(error)", location: "\(UpstreamAddress(upstream))")
        }
    }
}

/// What the reply to one query must be: from the upstream asked, a response with the query's ID
/// and question (the name compared without case).
struct ReplyExpectation: Sendable {
    var id: UInt16
    var question: DNSQuestion
    var source: SocketAddress

    /// The reply in `bytes` when it is the one expected; nil for anything to drop. A truncated
    /// reply whose records do not decode still counts (its header says TC: retry over TCP).
    func accept(_ bytes: ByteBuffer, from sender: SocketAddress?) -> DNSMessage? {
        if let sender, sender != source { return nil }
        guard let header = try? DNSMessageDecoder.decodeHeader(bytes), header.isResponse, header.id == id else { return nil }
        guard let message = try? DNSMessageDecoder.decode(bytes) else {
            return header.isTruncated ? DNSMessage(header: header, questions: [question]) : nil
        }
        guard message.questions.count == 1, let asked = message.questions.first, asked.type == question.type, asked.class == question.class,
            asked.name.equalsIgnoringCase(question.name)
        else { return nil }
        return message
    }
}

/// Completes an exchange's promise with the first reply that matches, with a timeout, or with the
/// socket's error (an ICMP port unreachable shows as ECONNREFUSED on a connected UDP socket).
final class UpstreamReplyHandler<Inbound>: ChannelInboundHandler {
    typealias InboundIn = Inbound

    private let expected: ReplyExpectation
    private let promise: EventLoopPromise<DNSMessage>
    private let timeout: TimeAmount
    private let unwrap: (Inbound) -> (ByteBuffer, SocketAddress?)
    private var timer: Scheduled<Void>?
    private var isDone = false

    init(expected: ReplyExpectation, promise: EventLoopPromise<DNSMessage>, timeout: TimeAmount, unwrap: @escaping (Inbound) -> (ByteBuffer, SocketAddress?)) {
        self.expected = expected
        self.promise = promise
        self.timeout = timeout
        self.unwrap = unwrap
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let upstream = UpstreamAddress(expected.source)
        let timeout = timeout
        timer = context.eventLoop.scheduleTask(in: timeout) {
            handler.value.finish(.failure(ForwardingError(.timeout, "no reply within \(timeout.nanoseconds / 1_000_000) ms", location: "\(upstream)")))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(ForwardingError(.network, "connection closed before the reply", location: "\(UpstreamAddress(expected.source))")))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let (bytes, sender) = unwrap(Self.unwrapInboundIn(data))
        guard let message = expected.accept(bytes, from: sender) else { return }
        finish(.success(message))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ForwardingError(.network, "connection closed before the reply", location: "\(UpstreamAddress(expected.source))")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(ForwardingError(.network, "\(error)", location: "\(UpstreamAddress(expected.source))")))
    }

    private func finish(_ result: Result<DNSMessage, ForwardingError>) {
        guard !isDone else { return }
        isDone = true
        timer?.cancel()
        promise.completeWith(result.mapError { $0 as any Error })
    }
}

