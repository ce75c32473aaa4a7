import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// Why a gRPC call failed: what etcd (or the connection) said, or that the member does not speak
/// HTTP/2 gRPC at all (an HTTP/1.1-only proxy in front of it), so the gateway should be asked.
enum GRPCFailure: Error {
    case etcd(EtcdError)
    case notGRPC(String)
}

/// One cleartext HTTP/2 connection (prior knowledge, as etcd's client port takes it) that makes
/// unary gRPC calls, one stream each: for `etcdserverpb.KV/Range`, the list pages.
///
/// Not grpc-swift: that hides the HTTP/2 handler's configuration and brings generated code for
/// etcd's whole API. Flow-control windows are raised to a few MiB so a page of megabytes is not
/// paced by 64 KiB windows and round trips. SETTINGS_MAX_FRAME_SIZE stays at 16 KiB: grpc-go
/// writes frames of 16 KiB whatever the peer allows (1 MiB measured no faster). etcd 3.4 pings after every request it receives and
/// swift-nio-http2 closes a connection after 200 pings in 30 s, so a connection is retired after
/// `maximumCalls` (see `GRPCRangeConnections`).
final class GRPCRangeConnection: Sendable {
    /// Calls one connection carries before it is retired: well below the ~198 of the ping limit.
    static let maximumCalls = 100
    /// The receive window of each stream and of the connection: a page of a list arrives whole
    /// without waiting for a WINDOW_UPDATE.
    static let streamWindow = 8 << 20
    static let connectionWindow = 32 << 20

    let channel: any Channel
    private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    let authority: String

    private init(channel: any Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, authority: String) {
        self.channel = channel
        self.multiplexer = multiplexer
        self.authority = authority
    }

    var isActive: Bool { channel.isActive }

    /// Connects and waits for the server's HTTP/2 SETTINGS, all within `timeout`. A connection
    /// refused, closed or silent is `.etcd` (unavailable, timeout: try another member); one whose
    /// peer answers the HTTP/2 preface with something else (`HTTP/1.1 505`) is `.notGRPC`.
    static func connect(
        host: String, port: Int, timeout: Duration, idleTimeout: TimeAmount, group: any EventLoopGroup
    ) async throws(GRPCFailure) -> GRPCRangeConnection {
        var connectionConfiguration = NIOHTTP2Handler.ConnectionConfiguration()
        connectionConfiguration.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
            HTTP2Setting(parameter: .enablePush, value: 0),
            HTTP2Setting(parameter: .initialWindowSize, value: streamWindow),
        ]
        connectionConfiguration.targetWindowSize = connectionWindow
        var streamConfiguration = NIOHTTP2Handler.StreamConfiguration()
        streamConfiguration.targetWindowSize = streamWindow
        let connection = connectionConfiguration, stream = streamConfiguration
        let started = ContinuousClock.now
        let authority = "\(host):\(port)"
        let handshake: EventLoopPromise<Void>
        let channel: any Channel
        let multiplexer: NIOHTTP2Handler.StreamMultiplexer
        do {
            (channel, multiplexer, handshake) = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(timeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(IdleStateHandler(allTimeout: idleTimeout), CloseWhenIdle())
                        let multiplexer = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .client, connectionConfiguration: connection, streamConfiguration: stream,
                            inboundStreamInitializer: { $0.close() })
                        let handshake = HTTP2Handshake(promise: channel.eventLoop.makePromise(), connectionWindow: connectionWindow)
                        try channel.pipeline.syncOperations.addHandler(handshake)
                        return (channel, multiplexer, handshake.promise)
                    }
                }
        } catch {
            if case ChannelError.connectTimeout = error { throw .etcd(EtcdError(.timeout, "no connection within \(timeout)")) }
            throw .etcd(EtcdError(.unavailable, "\(error)"))
        }
        let left = timeout - (ContinuousClock.now - started)
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(max(left, .zero))) {
            handshake.fail(GRPCFailure.etcd(EtcdError(.timeout, "no HTTP/2 SETTINGS within \(timeout)")))
        }
        do {
            try await handshake.futureResult.get()
            timer.cancel()
        } catch let error as GRPCFailure {
            timer.cancel()
            channel.close(promise: nil)
            throw error
        } catch {
            timer.cancel()
            channel.close(promise: nil)
            throw .etcd(EtcdError(.unavailable, "\(error)"))
        }
        return GRPCRangeConnection(channel: channel, multiplexer: multiplexer, authority: authority)
    }

    /// Calls `path` with one message and returns the one message of the answer (without its
    /// 5-byte gRPC prefix). A non-zero grpc-status is an `EtcdError` by its code, as the gateway's.
    func unary(path: String, message: [UInt8], timeout: Duration) async throws(GRPCFailure) -> ByteBuffer {
        var framed = channel.allocator.buffer(capacity: message.count + 5)
        framed.writeInteger(UInt8(0))
        framed.writeInteger(UInt32(message.count))
        framed.writeBytes(message)
        let body = framed
        let headers: HPACKHeaders = [
            ":method": "POST", ":scheme": "http", ":path": path, ":authority": authority,
            "content-type": "application/grpc", "te": "trailers",
            // At most eight digits, says the gRPC spec.
            "grpc-timeout": "\(min(max(TimeAmount(timeout).nanoseconds / 1_000_000, 1), 99_999_999))m",
        ]
        let answer = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let timeoutAmount = TimeAmount(timeout)
        let stream = multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(
                    GRPCUnaryCall(headers: headers, body: body, timeout: timeoutAmount, answer: answer))
            }
        }
        stream.whenFailure { answer.fail($0) }
        let collected: ByteBuffer
        do {
            collected = try await withTaskCancellationHandler {
                try await answer.futureResult.get()
            } onCancel: {
                stream.whenSuccess { $0.close(promise: nil) }
            }
        } catch let error as GRPCFailure {
            throw error
        } catch {
            throw .etcd(EtcdError(.unavailable, "\(error)"))
        }
        return try Self.message(in: collected)
    }

    /// The one message of a unary answer, checked against its gRPC length prefix.
    static func message(in buffer: ByteBuffer) throws(GRPCFailure) -> ByteBuffer {
        var buffer = buffer
        guard let compressed = buffer.readInteger(as: UInt8.self), let length = buffer.readInteger(as: UInt32.self) else {
            throw .etcd(EtcdError(.malformedResponse, "a gRPC answer of \(buffer.readableBytes) bytes has no message"))
        }
        guard compressed == 0 else { throw .etcd(EtcdError(.malformedResponse, "a compressed gRPC answer (none was asked for)")) }
        guard Int(length) == buffer.readableBytes else {
            throw .etcd(EtcdError(.malformedResponse, "a gRPC message of \(length) bytes arrived with \(buffer.readableBytes)"))
        }
        return buffer
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Closes the connection on `IdleStateHandler`'s event.
private final class CloseWhenIdle: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// Waits for the server's first SETTINGS (the proof that it speaks HTTP/2), then opens the
/// connection's receive window, which SETTINGS cannot do (RFC 9113 §6.9.2).
private final class HTTP2Handshake: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    let promise: EventLoopPromise<Void>
    private let connectionWindow: Int
    private var settled = false

    init(promise: EventLoopPromise<Void>, connectionWindow: Int) {
        self.promise = promise
        self.connectionWindow = connectionWindow
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if !settled, case .settings(.settings) = frame.payload {
            settled = true
            let increment = connectionWindow - 65535
            context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))), promise: nil)
            promise.succeed()
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !settled {
            settled = true
            // A peer that answers the preface with anything but HTTP/2 fails the frame parser.
            promise.fail(error is any NIOHTTP2Error ? GRPCFailure.notGRPC("\(error)") : GRPCFailure.etcd(EtcdError(.unavailable, "\(error)")))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !settled {
            settled = true
            // Not proof of a peer without HTTP/2: a member that died just after accepting.
            promise.fail(GRPCFailure.etcd(EtcdError(.unavailable, "the connection closed before the HTTP/2 SETTINGS")))
        }
        context.fireChannelInactive()
    }

    /// A connect that fails (refused, timed out) never makes the channel active, so only this
    /// is called; the promise must not be dropped unfulfilled.
    func handlerRemoved(context: ChannelHandlerContext) {
        if !settled {
            settled = true
            promise.fail(GRPCFailure.etcd(EtcdError(.unavailable, "the connection closed before the HTTP/2 SETTINGS")))
        }
    }
}

/// One unary call on its own stream: sends the request headers and body, collects the answer's
/// DATA and reads its trailers, and fails on a reset, a close or the timeout.
private final class GRPCUnaryCall: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// As much as the gateway's answers may hold.
    static let maximumAnswer = 512 << 20

    private let headers: HPACKHeaders
    private let body: ByteBuffer
    private let timeout: TimeAmount
    private let answer: EventLoopPromise<ByteBuffer>
    private var sent = false
    private var finished = false
    private var responseHeaders: HPACKHeaders?
    private var collected: ByteBuffer?
    private var timer: Scheduled<Void>?

    init(headers: HPACKHeaders, body: ByteBuffer, timeout: TimeAmount, answer: EventLoopPromise<ByteBuffer>) {
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.answer = answer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (call, context) = loopBound.value
            call.finish(context: context, .failure(GRPCFailure.etcd(EtcdError(.timeout, "no answer within \(call.timeout)"))))
        }
        if context.channel.isActive { send(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: true))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let frame):
            if responseHeaders == nil {
                responseHeaders = frame.headers
                // A status that is not 200, or no gRPC content type: not a gRPC server.
                let status = frame.headers.first(name: ":status") ?? "none"
                let contentType = frame.headers.first(name: "content-type") ?? ""
                guard status == "200", contentType.hasPrefix("application/grpc") || frame.headers.first(name: "grpc-status") != nil else {
                    finish(context: context, .failure(GRPCFailure.notGRPC("HTTP/2 status \(status), content-type \(contentType)")))
                    return
                }
                // A trailers-only answer (an error) carries the status in these headers.
                if frame.endStream { finish(context: context, trailers: frame.headers) }
            } else {
                finish(context: context, trailers: frame.headers)
            }
        case .data(let frame):
            if case .byteBuffer(var bytes) = frame.data {
                if collected == nil {
                    collected = bytes
                    // The prefix says how long the message is: make room for all of it at once.
                    if let length = bytes.getInteger(at: bytes.readerIndex + 1, as: UInt32.self), Int(length) > bytes.readableBytes {
                        collected?.reserveCapacity(minimumWritableBytes: Int(length) + 5 - bytes.readableBytes)
                    }
                } else {
                    collected?.writeBuffer(&bytes)
                }
                if let collected, collected.readableBytes > Self.maximumAnswer {
                    finish(context: context, .failure(GRPCFailure.etcd(EtcdError(.malformedResponse, "a gRPC answer over \(Self.maximumAnswer) bytes"))))
                    return
                }
            }
            if frame.endStream {
                finish(context: context, .failure(GRPCFailure.etcd(EtcdError(.malformedResponse, "a gRPC answer ended without trailers"))))
            }
        case .rstStream(let code):
            finish(context: context, .failure(GRPCFailure.etcd(EtcdError(.unavailable, "the stream was reset (\(code))"))))
        default:
            break
        }
    }

    private func finish(context: ChannelHandlerContext, trailers: HPACKHeaders) {
        guard let status = trailers.first(name: "grpc-status").flatMap({ Int($0) }) else {
            finish(context: context, .failure(GRPCFailure.etcd(EtcdError(.malformedResponse, "a gRPC answer without grpc-status"))))
            return
        }
        guard status == 0 else {
            let message = trailers.first(name: "grpc-message").map { $0.removingPercentEncodingLeniently } ?? "gRPC status \(status)"
            finish(context: context, .failure(GRPCFailure.etcd(EtcdClient.error(grpcCode: status, httpStatus: nil, message: message))))
            return
        }
        finish(context: context, .success(collected ?? context.channel.allocator.buffer(capacity: 0)))
    }

    private func finish(context: ChannelHandlerContext, _ result: Result<ByteBuffer, any Error>) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        collected = nil
        answer.completeWith(result)
        // Closing a finished stream is a no-op; an unfinished one is reset, which tells etcd to stop.
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context: context, .failure(GRPCFailure.etcd(EtcdError(.unavailable, "the stream closed before its answer"))))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context: context, .failure(GRPCFailure.etcd(EtcdError(.unavailable, "\(error)"))))
    }

    /// A stream torn down before it was ever active still answers its caller.
    func handlerRemoved(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        collected = nil
        answer.fail(GRPCFailure.etcd(EtcdError(.unavailable, "the stream closed before its answer")))
    }
}

extension String {
    /// grpc-message is percent-encoded (gRPC's HTTP/2 spec); a stray % is kept as it is.
    var removingPercentEncodingLeniently: String {
        var bytes: [UInt8] = []
        var utf8 = Array(self.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
