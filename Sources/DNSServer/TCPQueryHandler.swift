import DNSWire
import Logging
import NIOCore
import NIOPosix
import ServiceRegistry

/// Answers the framed queries of one TCP connection in the order they arrived, closes the
/// connection when it goes idle or breaks the framing, and lets responses already written reach
/// a client that half-closed or broke the framing after sending its queries.
///
/// A connection closes when no whole query arrives within `timeout` (a deadline per query, so a
/// trickle of bytes cannot keep it open).
///
/// A client that sends without reading cannot make the server queue answers without bound: while
/// the connection is over its write buffer's high-water mark, queries wait unanswered (they are a
/// few bytes each) and the socket is not read; answering and reading resume as the client reads.
final class TCPQueryHandler<Responder: DNSResponder>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: Responder
    private let timeout: TimeAmount
    private let logger: Logger
    /// Closes the connection unless a whole query (or the client's reading of a backlog) comes first.
    private var deadline: Scheduled<Void>?
    /// Queries received and not yet answered, oldest first.
    private var waiting = CircularBuffer<ByteBuffer>()
    /// The client is done sending (end of stream, or a framing error): close once every query
    /// received has been answered and every answer written.
    private var closesWhenAnswered = false
    private var isClosing = false
    private var isReading = true
    /// Queries answered later (forwarded) whose responses have not been written yet: the
    /// connection stays open for them after the client is done sending.
    private var deferredPending = 0
    private var isRemoved = false
    /// A zone transfer is being sent: later queries wait for its last message, so no answer
    /// lands between two of its messages.
    private var isTransferring = false

    init(responder: Responder, timeout: TimeAmount, logger: Logger) {
        self.responder = responder
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { restartDeadline(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        restartDeadline(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        isRemoved = true
        deadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        restartDeadline(context: context)
        waiting.append(Self.unwrapInboundIn(data))
        answerWaiting(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            // The client read its backlog down to the low-water mark: that is progress too.
            restartDeadline(context: context)
            answerWaiting(context: context)
            context.flush()
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            finishAfterAnswering(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The queries framed before the error are still answered (a query followed by an empty
        // frame in one segment used to lose its answer); nothing more is read.
        logger.debug("TCP connection error; closing", metadata: ["error": "\(error)"])
        finishAfterAnswering(context: context)
    }

    /// Answers waiting queries while the connection takes their answers, and reads from the
    /// socket only while nothing waits.
    private func answerWaiting(context: ChannelHandlerContext) {
        while !isTransferring, context.channel.isWritable, let query = waiting.popFirst() {
            answer(query, context: context)
        }
        setReading(waiting.isEmpty && !closesWhenAnswered && !isTransferring, context: context)
        closeIfAnswered(context: context)
    }

    private func closeIfAnswered(context: ChannelHandlerContext) {
        if waiting.isEmpty && closesWhenAnswered && deferredPending == 0 && !isTransferring { closeAfterWrites(context: context) }
    }

    private func answer(_ query: ByteBuffer, context: ChannelHandlerContext) {
        if ZoneTransfers.isTransferQuery(query) {
            transfer(query, context: context)
            return
        }
        respond(to: query, context: context)
    }

    /// Answers `query` through the responder's one pipeline.
    private func respond(to query: ByteBuffer, context: ChannelHandlerContext) {
        let isIPv6 = context.channel.remoteAddress?.protocol == .inet6
        let started = responder.countsQueries ? monotonicNanoseconds() : 0
        let remote = context.channel.remoteAddress
        let answered = responder.respond(
            to: query, over: .tcp, isIPv6: isIPv6, client: { remote?.ipAddress.flatMap { IPAddress($0) } }, allocator: context.channel.allocator,
            prefix: 2
        ) {
            deferredPending += 1
            let connection = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let reply = DeferredReply { response in
                connection.eventLoop.execute { connection.value.0.writeDeferred(response, context: connection.value.1) }
            }
            let questionType = query.withUnsafeReadableBytes { DNSQueryView($0, transport: .tcp)?.type }
            return responder.counting(
                reply, transport: .tcp, isIPv6: isIPv6, questionType: questionType, requestBytes: query.readableBytes, started: started)
        }
        guard let (response, answered) = answered else { return }
        logger.debug("answered", metadata: ["path": "\(answered.path.rawValue)", "bytes": "\(answered.length)"])
        guard !answered.isDeferred else { return }
        var framed = response
        // The TCP response limit is what a 2-byte length can say, so the length always fits.
        framed.setInteger(UInt16(answered.length), at: framed.readerIndex)
        context.write(Self.wrapOutboundOut(framed), promise: nil)
    }

    /// Sends the response to a zone transfer query from a thread of `transferThreads`: listing a
    /// large zone takes longer than an event loop (or a thread of Swift's cooperative pool) may be
    /// kept from its other work. Each message is made once the previous one is written, so a slow
    /// client holds one message, not the zone encoded; a client that stops reading for `timeout`
    /// is disconnected.
    private func transfer(_ query: ByteBuffer, context: ChannelHandlerContext) {
        isTransferring = true
        deadline?.cancel()
        let channel = context.channel
        let responder = responder
        let timeout = timeout
        let logger = logger
        let client = channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        let connection = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        transferThreads.submit { _ in
            let started = ContinuousClock.now
            var (messageCount, bytes) = (0, 0)
            var outcome = "sent"
            let response = responder.transferResponse(to: query, from: client)
            if var messages = response {
                do {
                    while let message = messages.next() {
                        var framed = channel.allocator.buffer(capacity: 2 + message.readableBytes)
                        framed.writeInteger(UInt16(message.readableBytes))
                        framed.writeImmutableBuffer(message)
                        let stalled = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
                        defer { stalled.cancel() }
                        try channel.writeAndFlush(framed).wait()
                        messageCount += 1
                        bytes += message.readableBytes
                    }
                } catch {
                    outcome = "cut short (\(error))"
                }
                logger.info("\(messages.kind) of \(messages.zone) to \(client.map { "\($0)" } ?? "?"): \(outcome), \(messages.recordCount) records in \(messageCount) messages, \(bytes) bytes, \((ContinuousClock.now - started).briefly)")
            }
            let unanswered = response == nil ? query : nil
            connection.eventLoop.execute { connection.value.0.transferFinished(context: connection.value.1, unanswered: unanswered) }
        }
    }

    /// Back on the event loop after a transfer; `unanswered` is a query the responder did not
    /// take as a transfer, answered now like any other.
    private func transferFinished(context: ChannelHandlerContext, unanswered: ByteBuffer?) {
        isTransferring = false
        guard !isRemoved else { return }
        if let unanswered { respond(to: unanswered, context: context) }
        restartDeadline(context: context)
        answerWaiting(context: context)
        context.flush()
    }

    /// A deferred response, on the connection's event loop: written at once (RFC 7766 lets TCP
    /// responses come out of order), unless the connection is gone.
    private func writeDeferred(_ response: ByteBuffer, context: ChannelHandlerContext) {
        deferredPending -= 1
        guard !isRemoved else { return }
        var framed = context.channel.allocator.buffer(capacity: 2 + response.readableBytes)
        framed.writeInteger(UInt16(response.readableBytes))
        framed.writeImmutableBuffer(response)
        context.writeAndFlush(Self.wrapOutboundOut(framed), promise: nil)
        closeIfAnswered(context: context)
    }

    private func finishAfterAnswering(context: ChannelHandlerContext) {
        closesWhenAnswered = true
        answerWaiting(context: context)
        context.flush()
    }

    /// Closes once everything written so far has gone out: an empty write completes after every
    /// write queued before it.
    private func closeAfterWrites(context: ChannelHandlerContext) {
        guard !isClosing else { return }
        isClosing = true
        let channel = context.channel
        let drained = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(Self.wrapOutboundOut(channel.allocator.buffer(capacity: 0)), promise: drained)
        drained.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }

    private func restartDeadline(context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        let logger = logger
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            logger.trace("TCP connection sent no whole query in time; closing")
            channel.close(promise: nil)
        }
    }

    private func setReading(_ reading: Bool, context: ChannelHandlerContext) {
        guard reading != isReading else { return }
        isReading = reading
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: reading)
    }
}

@available(*, unavailable)
extension TCPQueryHandler: Sendable {}

/// Where zone transfers are listed and sent: two threads, so at most two transfers hold a listed
/// zone at a time (the others wait their turn), whatever the number of secondaries asking.
private let transferThreads: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: 2)
    pool.start()
    return pool
}()
