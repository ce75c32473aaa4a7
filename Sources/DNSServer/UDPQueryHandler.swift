import DNSWire
import Logging
import NIOCore
import ServiceRegistry

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
        let now = limiter == nil ? 0 : ResponseRateLimiter.nowMilliseconds()
        let isIPv6 = query.remoteAddress.protocol == .inet6
        let channel = context.channel
        let started = responder.countsQueries ? monotonicNanoseconds() : 0
        let answered = context.channel.allocator.response(to: query.data, over: .udp, prefix: 0) { bytes, output in
            responder.respondCounting(
                to: bytes, over: .udp, isIPv6: isIPv6, client: { query.remoteAddress.ipAddress.flatMap { IPAddress($0) } }, into: output
            ) { batch, read in
                batch.respondOverUDP(
                    to: bytes, read, into: output, limiter: limiter,
                    client: { ResponseRateLimiter.netblock(of: query.remoteAddress) }, now: now,
                    later: {
                        let reply = DeferredReply { response in
                            channel.writeAndFlush(AddressedEnvelope(remoteAddress: query.remoteAddress, data: response), promise: nil)
                        }
                        return responder.counting(
                            reply, transport: .udp, isIPv6: isIPv6, questionType: read.view?.type, requestBytes: bytes.count, started: started)
                    })
            }
        }
        guard let (buffer, response) = answered else { return }
        logger.debug("answered", metadata: ["path": "\(response.path.rawValue)", "bytes": "\(response.length)"])
        guard !response.isDeferred else { return }
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
