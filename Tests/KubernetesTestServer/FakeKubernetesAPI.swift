import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A Kubernetes API server stand-in for tests: HTTPS on loopback with a CA it makes itself, bearer
/// tokens, Services, EndpointSlices, Namespaces and Pods in memory, paginated lists and watches
/// (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR 410) as `shared/research/etcd-registry.md` §6 measured
/// them, and the discovery documents kubectl reads. No real API server can be installed here.
///
/// A test starts it, writes a kubeconfig or hands `url`/`caPath`/`token` to its client, changes
/// objects with `apply`/`delete`, and provokes the failures a client must survive with
/// `compactHistory`, `expireWatches`, `dropWatches`, `stop`/`start(port:)` and `rotateToken`.
/// Objects and history survive a restart; `stop()` closes every connection.
///
/// ```swift
/// let api = try FakeKubernetesAPI()
/// try await api.start()
/// try api.writeKubeconfig(to: path)           // for `clusterdns serve --kubeconfig path`
/// try api.apply(["apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "namespace": "default"], "spec": [...]])
/// api.expireWatches()                          // the client must relist
/// await api.stop()
/// ```
public final class FakeKubernetesAPI: Sendable {
    private struct Running: Sendable {
        let group: MultiThreadedEventLoopGroup
        let channel: any Channel
    }

    private let state: APIState
    private let sslContext: NIOSSLContext
    private let running = Mutex<Running?>(nil)
    private let lastPort = Mutex(0)
    private let directory: URL

    /// The CA certificate that signed the server's certificate (for IP 127.0.0.1), PEM.
    public let caPEM: String
    /// A client certificate the CA signed, and its key (PEM): the server authenticates it as the
    /// user `clientCertificateUser`.
    public let clientCertificatePEM: String
    public let clientKeyPEM: String
    public static let clientCertificateUser = TestCertificates.clientCommonName

    /// - Parameters:
    ///   - token: the bearer token accepted until `rotateToken(to:)`.
    ///   - bookmarkInterval: how often a watch that allows bookmarks gets one (a real server: about a minute).
    ///   - historyLimit: the events kept for watches to resume from; older ones are forgotten as
    ///     the real watch cache forgets them, and a watch from before them gets 410.
    public init(token: String = "fake-token-\(UUID().uuidString.prefix(8))", bookmarkInterval: Duration = .seconds(1), historyLimit: Int = 100_000) throws {
        let certificates = try TestCertificates.generate()
        caPEM = certificates.caPEM
        clientCertificatePEM = certificates.clientCertificatePEM
        clientKeyPEM = certificates.clientKeyPEM
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificates.serverCertificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certificates.serverKeyPEM.utf8), format: .pem))
        )
        // kube-apiserver with --client-ca-file: a client may present a certificate, which must
        // then be signed by the CA; one that presents none authenticates by token.
        configuration.certificateVerification = .optionalVerification
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(certificates.caPEM.utf8), format: .pem)])
        sslContext = try NIOSSLContext(configuration: configuration)
        let (seconds, attoseconds) = bookmarkInterval.components
        state = APIState(token: token, historyLimit: historyLimit, bookmarkInterval: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fake-kubernetes-api-\(UUID().uuidString)")
    }

    deinit {
        if let running = running.withLock({ $0.take() }) {
            running.group.shutdownGracefully { _ in }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Running

    /// Listens on 127.0.0.1:`port`, a free port when 0; pass the old `port` to restart in place.
    public func start(port: Int = 0) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try caPEM.write(to: URL(fileURLWithPath: caPath), atomically: true, encoding: .utf8)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (state, sslContext) = (self.state, self.sslContext)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(NIOSSLServerHandler(context: sslContext))
                        try pipeline.configureHTTPServerPipeline()
                        try pipeline.addHandler(APIHandler(state: state))
                    }
                }
                .bind(host: "127.0.0.1", port: port).get()
            lastPort.withLock { $0 = channel.localAddress?.port ?? port }
            let previous = running.withLock { running in
                defer { running = Running(group: group, channel: channel) }
                return running
            }
            if let previous { try? await previous.group.shutdownGracefully() }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Closes the listener and every connection (open watches end mid-stream, as when a real
    /// server goes away) and removes the CA file. Objects stay for `start(port:)`.
    public func stop() async {
        guard let running = running.withLock({ $0.take() }) else { return }
        state.endAllWatches(.gone)
        try? await running.channel.close()
        try? await running.group.shutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The port it listens on (or last listened on, after `stop()`).
    public var port: Int { lastPort.withLock { $0 } }

    /// `https://127.0.0.1:<port>`
    public var url: String { "https://127.0.0.1:\(port)" }

    /// The CA certificate as a file, while the server runs.
    public var caPath: String { directory.appendingPathComponent("ca.crt").path }

    /// How a kubeconfig written by `writeKubeconfig` trusts the server.
    public enum KubeconfigTrust: Sendable {
        /// `certificate-authority-data`: this server's CA.
        case certificateAuthority
        /// Neither a CA nor `insecure-skip-tls-verify`: the system's roots, which do not know the CA.
        case systemRoots
        /// `insecure-skip-tls-verify: true` and no CA.
        case skipVerification
    }

    /// A kubeconfig whose current context is this server, with the CA inline (unless `trust` says
    /// otherwise) and a bearer token (`token` unless another is given, e.g. a wrong one), or with
    /// `client-certificate-data` and `client-key-data` instead when `clientCertificate` is set.
    public func writeKubeconfig(to path: String, token: String? = nil, clientCertificate: Bool = false, trust: KubeconfigTrust = .certificateAuthority) throws {
        let trustLine = switch trust {
        case .certificateAuthority: "certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())"
        case .systemRoots: ""
        case .skipVerification: "insecure-skip-tls-verify: true"
        }
        // Indented as the lines under `user:` below.
        let credentials = clientCertificate
            ? "client-certificate-data: \(Data(clientCertificatePEM.utf8).base64EncodedString())\n"
                + "    client-key-data: \(Data(clientKeyPEM.utf8).base64EncodedString())"
            : "token: \(token ?? self.token)"
        let kubeconfig = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: \(url)
                \(trustLine)
            users:
            - name: fake
              user:
                \(credentials)
            contexts:
            - name: fake
              context:
                cluster: fake
                user: fake
                namespace: default
            current-context: fake

            """
        try kubeconfig.write(toFile: path, atomically: true, encoding: .utf8)
    }

    // MARK: Auth

    public var token: String { state.token }

    /// From now on only `newToken` is accepted; open watches go on, as on a real server.
    public func rotateToken(to newToken: String) {
        state.token = newToken
    }

    // MARK: Objects

    /// Creates or replaces an object (Service, EndpointSlice, Namespace or Pod) by kind, namespace
    /// and name; it gets the next resourceVersion and open watches see ADDED or MODIFIED.
    public func apply(_ object: [String: Any]) throws {
        try state.upsert([object])
    }

    /// Applies one object's JSON, or every item of a kubectl-style List.
    public func apply(_ json: Data) throws {
        try state.upsert(try Self.objects(in: json))
    }

    /// Applies every item of a kubectl-style List JSON file (such as the one
    /// `Benchmarks/generate-cluster.py --format json` writes), each at its own revision.
    /// Returns the number of objects.
    @discardableResult
    public func load(listFile path: String) throws -> Int {
        let objects = try Self.objects(in: try Data(contentsOf: URL(fileURLWithPath: path)))
        try state.upsert(objects)
        return objects.count
    }

    private static func objects(in json: Data) throws -> [[String: Any]] {
        guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw APIError.badRequest("not a JSON object")
        }
        if let items = object["items"] as? [[String: Any]] {
            let listKind = (object["kind"] as? String).flatMap { $0.hasSuffix("List") ? String($0.dropLast(4)) : nil }
            // Items of a typed list (ServiceList) carry no kind of their own.
            return items.map { item in
                guard item["kind"] == nil, let listKind, !listKind.isEmpty else { return item }
                var item = item
                item["kind"] = listKind
                return item
            }
        }
        return [object]
    }

    /// Deletes an object; open watches see DELETED. False when there was none.
    @discardableResult
    public func delete(kind: String, namespace: String = "default", name: String) -> Bool {
        guard let resource = ServedResource.of(kind: kind) else { return false }
        return state.delete(resource, namespace: namespace, name: name)
    }

    /// The current revision, as lists report it in `metadata.resourceVersion`.
    public var resourceVersion: String { String(state.revision) }

    /// The number of objects of a kind held now.
    public func count(kind: String) -> Int {
        guard let resource = ServedResource.of(kind: kind) else { return 0 }
        return state.withStore { $0.count(resource) }
    }

    // MARK: Failures to provoke

    /// Forgets the event history as etcd compaction does: a later watch from an older
    /// resourceVersion gets the ERROR 410 event, a continue token from an older list HTTP 410.
    /// Open watches go on.
    public func compactHistory() {
        state.withStore { $0.compact() }
    }

    /// `compactHistory()`, and every open watch gets `{"type":"ERROR",…"code":410}` and ends, so a
    /// client must relist.
    public func expireWatches() {
        state.expireWatches()
    }

    /// Closes every open watch connection mid-stream, without a final chunk, as a restarting API
    /// server or a broken connection does. The client should re-watch from its last resourceVersion.
    public func dropWatches() {
        state.endAllWatches(.drop)
    }

    /// Watches open now.
    public var openWatches: Int { state.openWatchCount }

    /// The requests served so far (the last 10 000), oldest first.
    public var requests: [APIRequest] { state.requests }
}
