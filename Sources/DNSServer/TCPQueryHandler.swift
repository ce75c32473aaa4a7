import DNSWire
import Logging
import NIOCore

/// Answers the framed queries of one TCP connection in the order they arrived, closes the
/// connection when it goes idle or breaks the framing, and lets responses already written reach
/// a client that half-closed after sending its queries.
final class TCPQueryHandler<Responder: DNSResponder>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: Responder
    private let logger: Logger

    init(responder: Responder, logger: Logger) {
        self.responder = responder
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let query = Self.unwrapInboundIn(data)
        guard let (response, answered) = responder.respond(to: query, over: .tcp, allocator: context.channel.allocator, prefix: 2) else { return }
        var framed = response
        logger.debug("answered", metadata: ["path": "\(answered.path.rawValue)", "bytes": "\(answered.length)"])
        // The TCP response limit is what a 2-byte length can say, so the length always fits.
        framed.setInteger(UInt16(answered.length), at: framed.readerIndex)
        context.write(Self.wrapOutboundOut(framed), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            logger.trace("TCP connection idle; closing")
            context.close(promise: nil)
        case ChannelEvent.inputClosed:
            // Close only once everything written so far has gone out: an empty write completes
            // after every write queued before it.
            let channel = context.channel
            let drained = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(Self.wrapOutboundOut(channel.allocator.buffer(capacity: 0)), promise: drained)
            drained.futureResult.whenComplete { _ in channel.close(promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("TCP connection error; closing", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension TCPQueryHandler: Sendable {}
