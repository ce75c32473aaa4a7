import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import X509

/// One connection's requests: bearer-token check, discovery, get, list and watch. Thin: the
/// answers come from `APIState` and `KubernetesJSON`.
final class APIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: APIState
    private var head: HTTPRequestHead?
    private var watchID: Int?

    init(state: APIState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            if let head {
                self.head = nil
                handle(context, head)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let watchID { state.endWatch(watchID, .gone) }
        context.fireChannelInactive()
    }

    /// The CN of the client certificate the TLS handshake verified (the server's configuration
    /// rejects a presented certificate the CA did not sign), nil when none was presented.
    private static func verifiedClientName(_ context: ChannelHandlerContext) -> String? {
        guard let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self),
            let der = try? handler.peerCertificate?.toDERBytes(),
            let certificate = try? Certificate(derEncoded: der)
        else { return nil }
        return certificate.subject.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.map { String(describing: $0.value) }
    }

    private func handle(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let components = URLComponents(string: head.uri)
        let path = components?.percentEncodedPath ?? head.uri
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let presented = head.headers.first(name: "authorization")
        // As kube-apiserver with --client-ca-file: a certificate the handshake verified against the
        // CA authenticates its CN; without one, the bearer token decides.
        let certificateUser = Self.verifiedClientName(context)
        let user = certificateUser ?? (presented == "Bearer \(state.token)" ? "bearer-token" : nil)
        func answer(_ status: HTTPResponseStatus, _ body: Data) {
            state.log(APIRequest(method: head.method.rawValue, path: path, query: query, status: Int(status.code), user: user))
            respond(context, head, status, body)
        }
        func refuse(_ error: APIError) { answer(HTTPResponseStatus(statusCode: error.code), error.statusJSON) }

        if user == nil {
            // As on a real server, anonymous requests may read the version; a wrong token may not.
            let publicPaths: Set<String> = ["/version", "/healthz", "/livez", "/readyz"]
            guard presented == nil && publicPaths.contains(path) else {
                return refuse(APIError(code: 401, reason: "Unauthorized", message: "Unauthorized"))
            }
        }
        guard head.method == .GET else {
            return refuse(APIError(code: 405, reason: "MethodNotAllowed", message: "the fake API server only reads"))
        }
        switch path {
        case "/version": return answer(.ok, KubernetesJSON.version)
        case "/healthz", "/livez", "/readyz":
            state.log(APIRequest(method: "GET", path: path, query: query, status: 200, user: user))
            return respond(context, head, .ok, Data("ok".utf8), contentType: "text/plain")
        case "/api": return answer(.ok, KubernetesJSON.coreVersions(port: context.channel.localAddress?.port ?? 443))
        case "/apis": return answer(.ok, KubernetesJSON.groupList)
        default: break
        }
        guard let route = Route(path: path) else { return refuse(.notFound("the server could not find the requested resource")) }
        switch route {
        case .group(let name):
            guard let body = KubernetesJSON.group(named: name) else { return refuse(.notFound("group \(name) not served")) }
            answer(.ok, body)
        case .resources(let group):
            guard let body = KubernetesJSON.resourceList(group: group) else { return refuse(.notFound("no resources in \(group)/v1")) }
            answer(.ok, body)
        case .object(let resource, let namespace, let name):
            guard let object = state.withStore({ $0.object(resource, namespace: namespace, name: name) }) else {
                return refuse(.notFound("\(resource.plural) \"\(name)\" not found"))
            }
            answer(.ok, KubernetesJSON.withKind(resource, object.json))
        case .collection(let resource, let namespace):
            if query["watch"] == "1" || query["watch"] == "true" {
                state.log(APIRequest(method: "GET", path: path, query: query, status: 200, user: user))
                return watch(context, head, resource, namespace, query)
            }
            let limit = query["limit"].flatMap(Int.init)
            let result = state.withStore { store in
                Result { () throws(APIError) in try store.list(resource, namespace: namespace, limit: limit, continueToken: query["continue"]) }
            }
            guard case .success(let page) = result else {
                if case .failure(let error) = result { refuse(error) }
                return
            }
            // The response says application/json even when kubectl asked for a Table: kubectl
            // then prints the plain list itself (test-peers.md).
            answer(.ok, KubernetesJSON.list(resource, page))
        }
    }

    private func watch(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ resource: ServedResource, _ namespace: String?, _ query: [String: String]) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        let from = query["resourceVersion"].flatMap { $0.isEmpty ? nil : UInt64($0) }
        guard let id = state.openWatch(channel: context.channel, resource: resource, namespace: namespace, from: from) else { return }
        watchID = id
        let state = self.state
        if query["allowWatchBookmarks"] == "true" || query["allowWatchBookmarks"] == "1" {
            context.eventLoop.scheduleRepeatedTask(initialDelay: state.bookmarkInterval, delay: state.bookmarkInterval) { task in
                if !state.bookmark(id) { task.cancel() }
            }
        }
        if let seconds = query["timeoutSeconds"].flatMap(Int64.init), seconds > 0 {
            context.eventLoop.scheduleTask(in: .seconds(seconds)) { state.endWatch(id, .finish) }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: Data, contentType: String = "application/json") {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// What a resource path names.
enum Route: Equatable {
    /// `/apis/<group>`
    case group(String)
    /// `/api/v1` or `/apis/<group>/v1`
    case resources(group: String)
    /// `/api/v1/services`, `/api/v1/namespaces/<ns>/services`; namespace nil for all namespaces.
    case collection(ServedResource, namespace: String?)
    /// `/api/v1/namespaces/<ns>/services/<name>`, `/api/v1/namespaces/<name>`
    case object(ServedResource, namespace: String, name: String)

    init?(path: String) {
        var parts = path.split(separator: "/").map(String.init)
        let group: String
        if parts.first == "api" {
            group = ""
            parts.removeFirst()
        } else if parts.first == "apis", parts.count >= 2 {
            group = parts[1]
            parts.removeFirst(2)
            if parts.isEmpty {
                self = .group(group)
                return
            }
        } else {
            return nil
        }
        guard parts.first == "v1" else { return nil }
        parts.removeFirst()
        func resource(_ plural: String) -> ServedResource? {
            ServedResource.all.first { $0.group == group && $0.plural == plural }
        }
        switch parts.count {
        case 0: self = .resources(group: group)
        case 1:
            guard let resource = resource(parts[0]) else { return nil }
            self = .collection(resource, namespace: nil)
        case 2:
            guard let resource = resource(parts[0]), !resource.namespaced else { return nil }
            self = .object(resource, namespace: "", name: parts[1])
        case 3:
            guard parts[0] == "namespaces", let resource = resource(parts[2]), resource.namespaced else { return nil }
            self = .collection(resource, namespace: parts[1])
        case 4:
            guard parts[0] == "namespaces", let resource = resource(parts[2]), resource.namespaced else { return nil }
            self = .object(resource, namespace: parts[1], name: parts[3])
        default: return nil
        }
    }
}
