import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP listener operators point probes and Prometheus at: `/metrics`, `/health` (200 "OK"
/// while the process runs, as CoreDNS's health plugin: upstreams are not its business) and
/// `/ready` (`Readiness`). Plain HTTP/1.1 on its own event loop, away from the DNS threads.
public final class OperationsServer: Sendable {
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    /// The port bound (the one picked, when asked for port 0).
    public let port: Int

    private init(channel: any Channel, group: MultiThreadedEventLoopGroup) {
        self.channel = channel
        self.group = group
        self.port = channel.localAddress?.port ?? 0
    }

    public static func start(host: String, port: Int, metrics: MetricsExposition, readiness: Readiness) async throws -> OperationsServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let routes = OperationsRoutes(metrics: metrics, readiness: readiness)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(OperationsHandler(routes: routes))
                    }
                }
                .bind(host: host, port: port).get()
            return OperationsServer(channel: channel, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// What each path answers.
struct OperationsRoutes: Sendable {
    let metrics: MetricsExposition
    let readiness: Readiness

    func respond(to method: HTTPMethod, path: String) -> (HTTPResponseStatus, contentType: String, body: String) {
        guard method == .GET || method == .HEAD else { return (.methodNotAllowed, "text/plain", "GET only\n") }
        switch path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path {
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.text())
        case "/health":
            return (.ok, "text/plain", "OK")
        case "/ready":
            let status = readiness.status
            return (status.ready ? .ok : .serviceUnavailable, "text/plain", status.body)
        default:
            return (.notFound, "text/plain", "not found: /metrics, /health and /ready are served here\n")
        }
    }
}

/// One request at a time per connection: answered when its end arrives.
final class OperationsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: OperationsRoutes
    private var request: HTTPRequestHead?

    init(routes: OperationsRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            let (status, contentType, body) = routes.respond(to: head.method, path: head.uri)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if head.method != .HEAD {
                context.write(Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            }
            let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
            if !head.isKeepAlive {
                let channel = context.channel
                written.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}

@available(*, unavailable)
extension OperationsHandler: Sendable {}
