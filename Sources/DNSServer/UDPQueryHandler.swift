import DNSWire
import Logging
import NIOCore

/// Answers each datagram synchronously on its event loop and flushes once per read burst, so NIO
/// sends a whole burst of responses with one `sendmmsg`.
final class UDPQueryHandler<Responder: DNSResponder>: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let responder: Responder
    private let limiter: ResponseRateLimiter?
    private let logger: Logger

    init(responder: Responder, rateLimit: ResponseRateLimit?, logger: Logger) {
        self.responder = responder
        self.limiter = rateLimit.map { ResponseRateLimiter($0) }
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A full send buffer means the kernel is already dropping; answering later would only add latency.
        guard context.channel.isWritable else { return }
        let query = Self.unwrapInboundIn(data)
        // Longer than the largest query: cut short by the kernel, not a query to answer.
        guard query.data.readableBytes <= DNSTransport.largestUDPQuery else { return }
        let limit = DNSTransport.udp.largestResponse
        var buffer = context.channel.allocator.buffer(capacity: limit)
        var answered: DNSResponse?
        let now = limiter == nil ? 0 : ResponseRateLimiter.nowMilliseconds()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: limit) { output in
            query.data.withUnsafeReadableBytes { bytes in
                let batch = responder.batch()
                answered = batch.respondOverUDP(
                    to: bytes, batch.read(bytes, over: .udp), into: output, limiter: limiter,
                    client: { ResponseRateLimiter.netblock(of: query.remoteAddress) }, now: now)
            }
            return answered?.length ?? 0
        }
        guard let answered else { return }
        logger.debug("answered", metadata: ["path": "\(answered.path.rawValue)", "bytes": "\(answered.length)"])
        context.write(Self.wrapOutboundOut(AddressedEnvelope(remoteAddress: query.remoteAddress, data: buffer)), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// Errors such as ICMP port unreachable from a client that went away are routine on a UDP
    /// server; the socket stays open for everyone else.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.trace("UDP socket error", metadata: ["error": "\(error)"])
    }
}

@available(*, unavailable)
extension UDPQueryHandler: Sendable {}
