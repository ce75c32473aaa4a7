import ServiceRegistry
import Testing

/// The example cluster in `zones/` is what users see first: it must load cleanly and hold one of
/// every kind of Service the README talks about.
@Suite struct ExampleClusterTests {
    let result = ManifestLoader.load(paths: [TestPaths.exampleCluster.path])

    @Test func exampleClusterLoadsWithoutErrors() {
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.files.map { $0.split(separator: "/").last! } == ["data.json", "default.yaml", "shop.yaml"])
        print(result.report)
    }

    @Test func exampleClusterHasTheDocumentedNamespacesAndServices() {
        let snapshot = result.snapshot
        #expect(snapshot.namespaces == ["data", "default", "shop"])
        #expect(snapshot.services.count <= 12)
        #expect(snapshot.service(namespace: "default", name: "kubernetes")?.clusterIPs == [IPAddress("10.96.0.1")!])
        #expect(snapshot.service(namespace: "default", name: "kubernetes")?.ports.first?.name == "https")
        #expect(snapshot.service(namespace: "shop", name: "web")?.isHeadless == true)
        #expect(snapshot.service(namespace: "shop", name: "cart")?.clusterIPs.count == 2)
        #expect(snapshot.service(namespace: "shop", name: "frontend")?.loadBalancerIngress == [.ip(IPAddress("203.0.113.10")!)])
        #expect(snapshot.service(namespace: "shop", name: "payments")?.type == .nodePort)
        #expect(snapshot.service(namespace: "shop", name: "db")?.externalName == "db.example.com")
        #expect(snapshot.service(namespace: "shop", name: "cache-alias")?.externalName == "api.shop.svc.cluster.local")
        #expect(snapshot.service(namespace: "shop", name: "metrics")?.ports == [ServicePort(protocol: .udp, port: 8125, targetPort: .number(8125))])
        #expect(result.skipped.map(\.reference.kind) == ["Deployment"])
    }

    @Test func exampleClusterEndpointsComeFromEverySource() {
        let snapshot = result.snapshot
        let web = snapshot.endpointGroups(namespace: "shop", service: "web")
        #expect(web.map(\.origin) == [.endpointSlice])
        #expect(web.flatMap(\.endpoints).filter(\.ready).compactMap(\.hostname) == ["web-0", "web-1", "web-2"])
        #expect(web.flatMap(\.endpoints).filter { !$0.ready }.count == 1)

        let api = snapshot.endpointGroups(namespace: "shop", service: "api")
        #expect(api.map(\.origin) == [.selector])
        #expect(api.first?.ports == [EndpointPort(name: "http", port: 8080), EndpointPort(name: "grpc", port: 9090)])
        #expect(api.flatMap(\.endpoints).filter(\.ready).count == 2)

        #expect(snapshot.endpointGroups(namespace: "data", service: "redis").map(\.origin) == [.endpoints])
        #expect(snapshot.endpointGroups(namespace: "data", service: "workers").flatMap(\.endpoints).allSatisfy { $0.hostname == nil })
        let peers = snapshot.endpointGroups(namespace: "data", service: "peers").flatMap(\.endpoints)
        #expect(peers.count == 2 && peers.allSatisfy { $0.ready })
    }
}
