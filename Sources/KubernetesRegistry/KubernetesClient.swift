import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceRegistry
import Synchronization

/// A client of the API server's list and watch, over HTTPS with AsyncHTTPClient (which carries
/// the TLS stack), authenticated by bearer token or client certificate.
public final class KubernetesClient: Sendable {
    public let access: KubernetesAccess
    private let http: HTTPClient
    private let tokenCache = Mutex<(token: String?, read: ContinuousClock.Instant?)>((nil, nil))

    /// A token file is read again after this long, as client-go does: the kubelet rotates it.
    static let tokenRefresh: Duration = .seconds(60)

    public init(access: KubernetesAccess) throws(KubernetesError) {
        self.access = access
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = access.certificateAuthority {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca)))
            }
            if let certificate = access.clientCertificate, let key = access.clientKey {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate)).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key), format: .pem))
            }
        } catch {
            throw KubernetesError(.configuration, "the API server's CA or the client certificate cannot be read as PEM: \(error)")
        }
        if access.skipsTLSVerification { tls.certificateVerification = .none }
        let configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(5)))
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// The bearer token now: a token file is read again once a minute, or at once after a 401.
    private func token(fresh: Bool = false) throws(KubernetesError) -> String? {
        switch access.token {
        case .none:
            return nil
        case .value(let token):
            return token
        case .file(let path):
            let cached = tokenCache.withLock { $0 }
            if !fresh, let token = cached.token, let read = cached.read, ContinuousClock.now - read < Self.tokenRefresh { return token }
            guard let data = FileManager.default.contents(atPath: path) else {
                if let token = cached.token { return token }  // keep the last one while the file is swapped
                throw KubernetesError(.configuration, "cannot read the token file \(path)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            tokenCache.withLock { $0 = (token, .now) }
            return token
        }
    }

    private func request(_ pathAndQuery: String, freshToken: Bool) throws(KubernetesError) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: access.server + pathAndQuery)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "clusterdns")
        if let token = try token(fresh: freshToken) { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    /// Sends a GET; a 401 is retried once with the token read again (it may have just rotated).
    private func get(_ pathAndQuery: String, timeout: TimeAmount) async throws(KubernetesError) -> HTTPClientResponse {
        var freshToken = false
        while true {
            let response: HTTPClientResponse
            do {
                response = try await http.execute(try request(pathAndQuery, freshToken: freshToken), timeout: timeout)
            } catch let error as KubernetesError {
                throw error
            } catch {
                throw KubernetesError(.unavailable, "\(access.server)\(pathAndQuery): \(error)")
            }
            if response.status == .unauthorized, !freshToken, case .file = access.token {
                freshToken = true
                continue
            }
            return response
        }
    }

    /// One page of a list: the body, checked for the status.
    public func list(_ resource: KubernetesResource, limit: Int, continueToken: String?) async throws(KubernetesError) -> String {
        var query = "\(resource.path)?limit=\(limit)"
        if let continueToken, !continueToken.isEmpty { query += "&continue=\(Self.escaped(continueToken))" }
        let response = try await get(query, timeout: .seconds(60))
        let body: ByteBuffer
        do { body = try await response.body.collect(upTo: 1 << 30) } catch {
            throw KubernetesError(.unavailable, "\(resource): the list was cut short: \(error)")
        }
        let text = String(buffer: body)
        guard response.status == .ok else { throw Self.error(status: response.status, body: text, what: "listing \(resource)") }
        return text
    }

    /// Watches `resource` from `resourceVersion`, with bookmarks, for at most `timeoutSeconds`
    /// (the server then ends the stream, and the caller watches again from its last version).
    /// The stream throws `.expired` when the version is too old: list again.
    public func watch(_ resource: KubernetesResource, from resourceVersion: String, timeoutSeconds: Int = 300) -> AsyncThrowingStream<KubernetesWatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: KubernetesWatchEvent.self)
        let query = "\(resource.path)?watch=1&allowWatchBookmarks=true&resourceVersion=\(Self.escaped(resourceVersion))&timeoutSeconds=\(timeoutSeconds)"
        let task = Task {
            do {
                // The client's own deadline is past the server's, for a server that went away silently.
                let response = try await self.get(query, timeout: .seconds(Int64(timeoutSeconds) + 30))
                guard response.status == .ok else {
                    let body = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
                    throw Self.error(status: response.status, body: body, what: "watching \(resource)")
                }
                var lines = StreamedLines()
                for try await chunk in response.body {
                    lines.append(chunk.readableBytesView)
                    while let line = lines.next() {
                        if let event = try KubernetesWatchEvent(line: line, resource: resource) {
                            continuation.yield(event)
                        }
                    }
                }
                continuation.finish()
            } catch let error as KubernetesError {
                continuation.finish(throwing: error)
            } catch {
                continuation.finish(throwing: KubernetesError(.unavailable, "watching \(resource): \(error)"))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    static func escaped(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }

    /// The error a non-200 answer means, with the Status message the API sent.
    static func error(status: HTTPResponseStatus, body: String, what: String) -> KubernetesError {
        let message = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["message"] as? String ?? String(body.prefix(200))
        let code: KubernetesError.Code
        switch status {
        case .gone: code = .expired
        case .unauthorized, .forbidden: code = .unauthorized
        case .serviceUnavailable, .badGateway, .gatewayTimeout, .internalServerError, .tooManyRequests: code = .unavailable
        default: code = .rejected
        }
        return KubernetesError(code, "\(what): HTTP \(status.code) \(status.reasonPhrase): \(message)")
    }
}
