import Foundation
import Testing

/// `serve --autopath`, asked with dig from loopback source addresses that the registry knows as a
/// Pod (127.0.0.21, namespace default) and as an endpoint (127.0.0.22, namespace shop).
@Suite(.serialized) struct AutopathEndToEndTests {
    static let clients = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: client
          namespace: default
        status:
          phase: Running
          podIP: 127.0.0.21
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: finished
          namespace: shop
        status:
          phase: Succeeded
          podIP: 127.0.0.21
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: backend
          namespace: shop
        spec:
          clusterIP: 10.96.5.5
          ports:
          - port: 80
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: backend-1
          namespace: shop
          labels:
            kubernetes.io/service-name: backend
        addressType: IPv4
        endpoints:
        - addresses: [127.0.0.22]
        ports:
        - port: 80

        """

    private func query(_ server: ClusterDNSServer, from source: String, _ name: String, _ type: String = "A") throws -> DigOutput {
        try Client.dig.query(port: server.port, name, type, extra: ["-b", source])
    }

    @Test func aPodsFirstExpansionOfAnotherNamespacesServiceIsAnsweredAsACNAME() throws {
        let registry = try makeRegistry(["cluster.yaml": EndToEndRegistry.manifests, "clients.yaml": Self.clients])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--autopath", "--threads", "1"])
        defer { server.stop() }

        // web.shop asked from a pod in default: its resolver's first try.
        let answer = try query(server, from: "127.0.0.21", "backend.shop.default.svc.cluster.local")
        #expect(answer.status == "NOERROR", "\(answer)")
        #expect(answer.data(ofType: "CNAME") == ["backend.shop.svc.cluster.local."], "\(answer)")
        #expect(answer.data(ofType: "A") == ["10.96.5.5"], "\(answer)")
        // A type the Service has no records of: NODATA after the CNAME still ends the walk.
        let aaaa = try query(server, from: "127.0.0.21", "backend.shop.default.svc.cluster.local", "AAAA")
        #expect(aaaa.status == "NOERROR" && aaaa.data(ofType: "CNAME") == ["backend.shop.svc.cluster.local."], "\(aaaa)")
    }

    @Test func anEndpointsNamespaceIsKnownWithoutItsPod() throws {
        let registry = try makeRegistry(["cluster.yaml": EndToEndRegistry.manifests, "clients.yaml": Self.clients])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--autopath", "--threads", "1", "--udp-engine", "nio"])
        defer { server.stop() }
        let answer = try query(server, from: "127.0.0.22", "kubernetes.default.shop.svc.cluster.local")
        #expect(answer.data(ofType: "CNAME") == ["kubernetes.default.svc.cluster.local."], "\(answer)")
        #expect(answer.data(ofType: "A") == ["10.96.0.1"], "\(answer)")
        // Over TCP too.
        let tcp = try Client.dig.query(port: server.port, "kubernetes.default.shop.svc.cluster.local", "A", tcp: true, extra: ["-b", "127.0.0.22"])
        #expect(tcp.data(ofType: "A") == ["10.96.0.1"], "\(tcp)")
    }

    @Test func unknownClientsOtherNamespacesAndNamesThatExistNowhereStayNXDOMAIN() throws {
        let registry = try makeRegistry(["cluster.yaml": EndToEndRegistry.manifests, "clients.yaml": Self.clients])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--autopath", "--threads", "1"])
        defer { server.stop() }
        // A client the registry does not know.
        #expect(try query(server, from: "127.0.0.23", "backend.shop.default.svc.cluster.local").status == "NXDOMAIN")
        // The pod asks in a namespace other than its own: not its first expansion.
        #expect(try query(server, from: "127.0.0.21", "backend.shop.kube-system.svc.cluster.local").status == "NXDOMAIN")
        // No expansion exists (and no forwarder holds the bare name).
        #expect(try query(server, from: "127.0.0.21", "nowhere.example.default.svc.cluster.local").status == "NXDOMAIN")
    }

    /// The Pod goes; its address is no one's namespace any more.
    @Test func aDeletedPodsAddressIsNotTrusted() throws {
        let registry = try makeRegistry(["cluster.yaml": EndToEndRegistry.manifests, "clients.yaml": Self.clients])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--autopath", "--threads", "1"])
        defer { server.stop() }
        #expect(try query(server, from: "127.0.0.21", "backend.shop.default.svc.cluster.local").status == "NOERROR")
        let withoutPod = Self.clients.replacingOccurrences(of: "podIP: 127.0.0.21\n---", with: "podIP: 127.0.0.99\n---")
        try #require(withoutPod != Self.clients)
        try withoutPod.write(to: registry.appendingPathComponent("clients.yaml"), atomically: true, encoding: .utf8)
        #expect(server.waitForLog(containing: "serving serial", timeout: 5), "\(server.log)")
        #expect(try query(server, from: "127.0.0.21", "backend.shop.default.svc.cluster.local").status == "NXDOMAIN")
    }

    @Test func withoutTheFlagNothingChanges() throws {
        let registry = try makeRegistry(["cluster.yaml": EndToEndRegistry.manifests, "clients.yaml": Self.clients])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--threads", "1"])
        defer { server.stop() }
        #expect(try query(server, from: "127.0.0.21", "backend.shop.default.svc.cluster.local").status == "NXDOMAIN")
    }
}
