import Foundation
import KubernetesTestServer
import Testing

/// `serve --kubeconfig` following the fake API server (Tests/KubernetesTestServer, which kubectl
/// itself accepts) through start, changes, outages, expired versions and token rotation.
@Suite(.serialized) struct KubernetesServeEndToEndTests {
    static func service(_ namespace: String, _ name: String, clusterIP: String) -> [String: Any] {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": name, "namespace": namespace],
            "spec": ["clusterIP": clusterIP, "ports": [["name": "http", "port": 80, "protocol": "TCP"]]],
        ]
    }

    static func headless(_ namespace: String, _ name: String) -> [String: Any] {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": name, "namespace": namespace],
            "spec": ["clusterIP": "None", "ports": [["name": "http", "port": 80, "protocol": "TCP"]]],
        ]
    }

    static func slice(_ namespace: String, _ name: String, service: String, addresses: [String]) -> [String: Any] {
        [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": ["name": name, "namespace": namespace, "labels": ["kubernetes.io/service-name": service]],
            "addressType": "IPv4",
            "endpoints": addresses.map { ["addresses": [$0], "conditions": ["ready": true]] },
            "ports": [["name": "http", "port": 8080, "protocol": "TCP"]],
        ]
    }

    static func namespace(_ name: String) -> [String: Any] {
        ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": name]]
    }

    /// A started fake API server holding `objects`, and a scratch directory with its kubeconfig.
    final class Cluster: @unchecked Sendable {
        let api: FakeKubernetesAPI
        let directory: URL
        var kubeconfig: String { directory.appendingPathComponent("kubeconfig").path }

        init(_ objects: [[String: Any]], start: Bool = true) async throws {
            api = try FakeKubernetesAPI()
            // A port it can be started on again (see freePorts).
            try await api.start(port: try freePorts(1)[0])
            for object in objects { try api.apply(object) }
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-k8s-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try api.writeKubeconfig(to: kubeconfig)
            if !start { await api.stop() }
        }

        func finish() async {
            await api.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Starts the stopped API server again on its port. The port can stay taken for a moment after
    /// the stop (its connections closing), so the bind is tried for up to 5 s.
    private func restart(_ api: FakeKubernetesAPI) async throws {
        for attempt in 1...50 {
            do {
                try await api.start(port: api.port)
                return
            } catch where attempt < 50 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Polls (at most `timeout` seconds) until `name` answers `expected` (A records; [] for NXDOMAIN).
    private func eventually(_ server: ClusterDNSServer, _ name: String, _ expected: [String], timeout: TimeInterval = 5) throws -> DigOutput {
        let deadline = Date().addingTimeInterval(timeout)
        var output = try Client.dig.query(port: server.port, name)
        while Date() < deadline {
            if expected.isEmpty ? output.status == "NXDOMAIN" : output.data(ofType: "A").sorted() == expected.sorted() { break }
            usleep(50_000)
            output = try Client.dig.query(port: server.port, name)
        }
        return output
    }

    @Test func theListedRegistryIsServedAndWatchedChangesAnswer() async throws {
        let cluster = try await Cluster([
            Self.namespace("shop"), Self.service("shop", "web", clusterIP: "10.96.0.20"),
            Self.headless("shop", "db"), Self.slice("shop", "db-1", service: "db", addresses: ["10.244.0.5"]),
        ])
        let server = try ClusterDNSServer(arguments: ["--kubeconfig", cluster.kubeconfig, "--threads", "1"])
        defer { server.stop() }
        #expect(server.waitForLog(containing: "every resource listed", timeout: 10), "\(server.log)")
        #expect(try eventually(server, "web.shop.svc.cluster.local", ["10.96.0.20"]).data(ofType: "A") == ["10.96.0.20"])
        #expect(try eventually(server, "db.shop.svc.cluster.local", ["10.244.0.5"]).data(ofType: "A") == ["10.244.0.5"])

        try cluster.api.apply(Self.service("shop", "web", clusterIP: "10.96.0.21"))
        #expect(try eventually(server, "web.shop.svc.cluster.local", ["10.96.0.21"]).data(ofType: "A") == ["10.96.0.21"], "\(server.log)")
        try cluster.api.apply(Self.service("shop", "api", clusterIP: "10.96.0.30"))
        #expect(try eventually(server, "api.shop.svc.cluster.local", ["10.96.0.30"]).data(ofType: "A") == ["10.96.0.30"])
        try cluster.api.apply(Self.slice("shop", "db-1", service: "db", addresses: ["10.244.0.5", "10.244.0.6"]))
        #expect(try eventually(server, "db.shop.svc.cluster.local", ["10.244.0.5", "10.244.0.6"]).data(ofType: "A").sorted() == ["10.244.0.5", "10.244.0.6"])
        #expect(cluster.api.delete(kind: "Service", namespace: "shop", name: "web"))
        #expect(try eventually(server, "web.shop.svc.cluster.local", []).status == "NXDOMAIN")
        // Pods are not needed here, so not listed.
        #expect(!cluster.api.requests.contains { $0.path == "/api/v1/pods" })
        await cluster.finish()
    }

    /// Pods are watched only when something needs them: `--pods verified` answers a pod name
    /// only for a Pod the API holds in that namespace.
    @Test func podsAreWatchedForVerifiedPodNames() async throws {
        let pod: [String: Any] = [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "client", "namespace": "shop"],
            "status": ["phase": "Running", "podIP": "10.244.3.7"],
        ]
        let cluster = try await Cluster([Self.namespace("shop"), pod])
        let server = try ClusterDNSServer(arguments: ["--kubeconfig", cluster.kubeconfig, "--threads", "1", "--pods", "verified"])
        defer { server.stop() }
        #expect(try eventually(server, "10-244-3-7.shop.pod.cluster.local", ["10.244.3.7"]).data(ofType: "A") == ["10.244.3.7"], "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "10-244-3-8.shop.pod.cluster.local").status == "NXDOMAIN")
        #expect(cluster.api.delete(kind: "Pod", namespace: "shop", name: "client"))
        #expect(try eventually(server, "10-244-3-7.shop.pod.cluster.local", []).status == "NXDOMAIN")
        #expect(cluster.api.requests.contains { $0.path == "/api/v1/pods" })
        await cluster.finish()
    }

    @Test func beforeTheFirstListClusterNamesAreSERVFAILAndNotReady() async throws {
        let cluster = try await Cluster([Self.namespace("shop"), Self.service("shop", "web", clusterIP: "10.96.0.20")], start: false)
        let server = try ClusterDNSServer(arguments: ["--kubeconfig", cluster.kubeconfig, "--threads", "1", "--http-listen", "127.0.0.1:0"])
        defer { server.stop() }
        let http = try #require(server.httpPort, "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "web.shop.svc.cluster.local").status == "SERVFAIL")
        #expect(try Client.dig.query(port: server.port, "missing.shop.svc.cluster.local").status == "SERVFAIL")
        #expect(try httpGet(http, "/ready") == (503, "registry"))

        try await restart(cluster.api)
        #expect(try eventually(server, "web.shop.svc.cluster.local", ["10.96.0.20"], timeout: 15).data(ofType: "A") == ["10.96.0.20"], "\(server.log)")
        #expect(try httpGet(http, "/ready") == (200, "OK"))
        await cluster.finish()
    }

    /// The API server goes away: the last good registry answers and the replica stays ready. While
    /// it is down a Service is deleted and another created, and the history compacted: the watch
    /// from the old version gets 410, the resource is listed again, and nothing is lost or stale.
    @Test func anOutageKeepsTheLastGoodRegistryAndAnExpiredVersionIsListedAgain() async throws {
        let cluster = try await Cluster([
            Self.namespace("shop"), Self.service("shop", "web", clusterIP: "10.96.0.20"), Self.service("shop", "old", clusterIP: "10.96.0.40"),
        ])
        let server = try ClusterDNSServer(arguments: ["--kubeconfig", cluster.kubeconfig, "--threads", "1", "--http-listen", "127.0.0.1:0"])
        defer { server.stop() }
        let http = try #require(server.httpPort, "\(server.log)")
        #expect(try eventually(server, "old.shop.svc.cluster.local", ["10.96.0.40"]).data(ofType: "A") == ["10.96.0.40"])

        await cluster.api.stop()
        #expect(server.waitForLog(containing: "again from version", timeout: 10), "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "web.shop.svc.cluster.local").data(ofType: "A") == ["10.96.0.20"])
        #expect(try httpGet(http, "/ready") == (200, "OK"))

        #expect(cluster.api.delete(kind: "Service", namespace: "shop", name: "old"))
        try cluster.api.apply(Self.service("shop", "new", clusterIP: "10.96.0.50"))
        cluster.api.compactHistory()
        try await restart(cluster.api)
        #expect(try eventually(server, "new.shop.svc.cluster.local", ["10.96.0.50"], timeout: 20).data(ofType: "A") == ["10.96.0.50"], "\(server.log)")
        #expect(try eventually(server, "old.shop.svc.cluster.local", []).status == "NXDOMAIN")
        #expect(server.log.contains("listing /api/v1/services again") || server.log.contains("listed again /api/v1/services"), "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "web.shop.svc.cluster.local").data(ofType: "A") == ["10.96.0.20"])
        await cluster.finish()
    }

    /// A projected service-account token rotates: the file is read again when the server says 401.
    @Test func aRotatedTokenIsReadAgainFromItsFile() async throws {
        let cluster = try await Cluster([Self.namespace("shop"), Self.service("shop", "web", clusterIP: "10.96.0.20")])
        let tokenFile = cluster.directory.appendingPathComponent("token")
        try cluster.api.token.write(to: tokenFile, atomically: true, encoding: .utf8)
        let kubeconfig = cluster.directory.appendingPathComponent("kubeconfig-tokenfile")
        try """
            current-context: fake
            contexts: [{name: fake, context: {cluster: fake, user: fake}}]
            clusters: [{name: fake, cluster: {server: "\(cluster.api.url)", certificate-authority-data: \(Data(cluster.api.caPEM.utf8).base64EncodedString())}}]
            users: [{name: fake, user: {tokenFile: token}}]
            """.write(to: kubeconfig, atomically: true, encoding: .utf8)
        let server = try ClusterDNSServer(arguments: ["--kubeconfig", kubeconfig.path, "--threads", "1"])
        defer { server.stop() }
        #expect(try eventually(server, "web.shop.svc.cluster.local", ["10.96.0.20"]).data(ofType: "A") == ["10.96.0.20"])

        try "rotated-token".write(to: tokenFile, atomically: true, encoding: .utf8)
        try expectTheRotatedTokenIsUsed(cluster, server)
        await cluster.finish()
    }

    /// After the token file (already rewritten) holds `rotated-token`: the API server takes only
    /// that, the watches break, a change is made, and it must be answered, after one 401.
    private func expectTheRotatedTokenIsUsed(_ cluster: Cluster, _ server: ClusterDNSServer) throws {
        cluster.api.rotateToken(to: "rotated-token")
        cluster.api.dropWatches()
        try cluster.api.apply(Self.service("shop", "web", clusterIP: "10.96.0.22"))
        #expect(try eventually(server, "web.shop.svc.cluster.local", ["10.96.0.22"], timeout: 15).data(ofType: "A") == ["10.96.0.22"], "\(server.log)")
        #expect(cluster.api.requests.contains { $0.status == 401 }, "the old token was refused once")
    }

    /// A kubeconfig with a client certificate and key (kubeadm's admin.conf): every request is
    /// authenticated by the certificate, none by a token.
    @Test func aClientCertificateInTheKubeconfigAuthenticates() async throws {
        let cluster = try await Cluster([Self.namespace("shop"), Self.service("shop", "web", clusterIP: "10.96.0.20")])
        try cluster.api.writeKubeconfig(to: cluster.kubeconfig, clientCertificate: true)
        let server = try ClusterDNSServer(arguments: ["--kubeconfig", cluster.kubeconfig, "--threads", "1"])
        defer { server.stop() }
        #expect(try eventually(server, "web.shop.svc.cluster.local", ["10.96.0.20"]).data(ofType: "A") == ["10.96.0.20"], "\(server.log)")
        try cluster.api.apply(Self.service("shop", "api", clusterIP: "10.96.0.30"))
        #expect(try eventually(server, "api.shop.svc.cluster.local", ["10.96.0.30"]).data(ofType: "A") == ["10.96.0.30"], "\(server.log)")
        let requests = cluster.api.requests
        #expect(requests.contains { $0.isWatch })
        #expect(requests.allSatisfy { $0.user == FakeKubernetesAPI.clientCertificateUser }, "\(requests.map(\.user))")
        await cluster.finish()
    }

    /// The server's certificate is checked against the kubeconfig's CA, or the system's roots
    /// without one, which do not know the test CA: nothing is listed, cluster names stay SERVFAIL
    /// and the log says why. `insecure-skip-tls-verify: true` is honoured when it is set.
    @Test func theServerCertificateIsVerifiedUnlessTheKubeconfigSkipsVerification() async throws {
        let cluster = try await Cluster([Self.namespace("shop"), Self.service("shop", "web", clusterIP: "10.96.0.20")])
        try cluster.api.writeKubeconfig(to: cluster.kubeconfig, trust: .systemRoots)
        let untrusting = try ClusterDNSServer(arguments: ["--kubeconfig", cluster.kubeconfig, "--threads", "1"])
        #expect(untrusting.waitForLog(containing: "listing /api/v1/services again", timeout: 10), "\(untrusting.log)")
        #expect(untrusting.log.lowercased().contains("certificate"), "\(untrusting.log)")
        #expect(try Client.dig.query(port: untrusting.port, "web.shop.svc.cluster.local").status == "SERVFAIL")
        #expect(!cluster.api.requests.contains { $0.path == "/api/v1/services" }, "no request got through TLS")
        untrusting.stop()

        try cluster.api.writeKubeconfig(to: cluster.kubeconfig, trust: .skipVerification)
        let skipping = try ClusterDNSServer(arguments: ["--kubeconfig", cluster.kubeconfig, "--threads", "1"])
        defer { skipping.stop() }
        #expect(try eventually(skipping, "web.shop.svc.cluster.local", ["10.96.0.20"]).data(ofType: "A") == ["10.96.0.20"], "\(skipping.log)")
        await cluster.finish()
    }

    /// `--kubernetes` in a pod: `KUBERNETES_SERVICE_HOST`/`_PORT` from the environment, and the
    /// service account mounted at /var/run/secrets/kubernetes.io/serviceaccount as the kubelet
    /// projects it (files that link through `..data` to a timestamped folder, swapped whole when
    /// the token rotates). The server runs in a private mount namespace where a scratch folder is
    /// mounted there, so it reads the real path and the host's /run is untouched.
    @Test(.enabled(if: getuid() == 0, "needs root for unshare --mount"))
    func inAPodTheServiceAccountAndTheServiceEnvironmentAreUsedAndTheTokenRotates() async throws {
        let cluster = try await Cluster([Self.namespace("shop"), Self.service("shop", "web", clusterIP: "10.96.0.20")])
        let account = cluster.directory.appendingPathComponent("serviceaccount")
        let projection = ServiceAccountProjection(directory: account)
        try projection.write(token: cluster.api.token, ca: cluster.api.caPEM, namespace: "kube-system")
        let mountPoint = KubernetesAccessPaths.serviceAccount
        let script = "mount -t tmpfs tmpfs /run && mkdir -p \(mountPoint) && mount --bind \"$0\" \(mountPoint) && exec \"$@\""
        var environment = ProcessInfo.processInfo.environment
        environment["KUBERNETES_SERVICE_HOST"] = "127.0.0.1"
        environment["KUBERNETES_SERVICE_PORT"] = String(cluster.api.port)
        let server = try ClusterDNSServer(
            arguments: ["--kubernetes", "--threads", "1"], launcher: ["unshare", "--mount", "sh", "-c", script, account.path], environment: environment)
        defer { server.stop() }
        #expect(try eventually(server, "web.shop.svc.cluster.local", ["10.96.0.20"]).data(ofType: "A") == ["10.96.0.20"], "\(server.log)")
        #expect(cluster.api.requests.contains { $0.path == "/api/v1/services" && $0.user == "bearer-token" })

        try projection.write(token: "rotated-token", ca: cluster.api.caPEM, namespace: "kube-system")
        try expectTheRotatedTokenIsUsed(cluster, server)
        await cluster.finish()
    }

    @Test func fiftyThousandServicesAreListedInPagesOfFiveHundred() async throws {
        let cluster = try await Cluster([Self.namespace("bulk")])
        for index in 0..<50_000 {
            try cluster.api.apply(Self.service("bulk", "svc-\(index)", clusterIP: "10.\(100 + index / 65536).\(index / 256 % 256).\(index % 256)"))
        }
        let server = try ClusterDNSServer(arguments: ["--kubeconfig", cluster.kubeconfig, "--threads", "1"])
        defer { server.stop() }
        #expect(server.waitForLog(containing: "listed /api/v1/services: 50000 objects", timeout: 60), "\(server.log)")
        let last = try eventually(server, "svc-49999.bulk.svc.cluster.local", ["10.100.195.79"], timeout: 30)
        #expect(last.data(ofType: "A") == ["10.100.195.79"])
        let pages = cluster.api.requests.filter { $0.path == "/api/v1/services" && !$0.isWatch && $0.query["limit"] == "500" }
        #expect(pages.count == 100)
        // Stopped once the answers are compiled: a debug build takes seconds over 50k Services.
        #expect(server.waitForLog(containing: "compiled the answers", timeout: 60), "\(server.log)")
        await cluster.finish()
    }
}
