import Foundation
import Testing

/// A registry as kubectl would print it: a ClusterIP service, a headless StatefulSet service, and a
/// headless service with 100 endpoints (too big for one UDP answer).
enum EndToEndRegistry {
    static let manifests = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: kubernetes
          namespace: default
        spec:
          clusterIP: 10.96.0.1
          ports:
          - name: https
            port: 443
            protocol: TCP
            targetPort: 6443
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: shop
        spec:
          clusterIP: None
          ports:
          - name: http
            port: 8080
          selector:
            app: web
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: web-x1
          namespace: shop
          labels:
            kubernetes.io/service-name: web
        addressType: IPv4
        endpoints:
        - addresses: ["10.244.1.10"]
          hostname: web-0
          conditions: {ready: true}
        - addresses: ["10.244.1.11"]
          hostname: web-1
          conditions: {ready: true}
        ports:
        - name: http
          port: 8080
          protocol: TCP

        """

    /// A headless service `big.shop` with `count` ready endpoints.
    static func bigHeadless(count: Int) -> String {
        let endpoints = (0..<count).map { index in
            "- addresses: [\"10.245.\(index / 200).\(index % 200 + 1)\"]\n  conditions: {ready: true}"
        }.joined(separator: "\n")
        return """
            apiVersion: v1
            kind: Service
            metadata:
              name: big
              namespace: shop
            spec:
              clusterIP: None
              ports:
              - name: http
                port: 80
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: big-1
              namespace: shop
              labels:
                kubernetes.io/service-name: big
            addressType: IPv4
            endpoints:
            \(endpoints)
            ports:
            - name: http
              port: 80

            """
    }

    static func directory() throws -> URL {
        try makeRegistry(["cluster.yaml": manifests, "big.yaml": bigHeadless(count: 100)])
    }
}

/// Serialized: each test starts a server and blocks on client processes; run one at a time.
@Suite(.serialized) struct ServeEndToEndTests {
    @Test(arguments: Client.allCases)
    func clientsReadAClusterIPServiceOverUDP(_ client: Client) throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        let output = try client.query(port: server.port, "kubernetes.default.svc.cluster.local", "A")
        #expect(output.status == "NOERROR", "\(output)")
        #expect(output.flags.contains("aa"), "\(output)")
        #expect(output.data(ofType: "A") == ["10.96.0.1"], "\(output)")
    }

    @Test(arguments: Client.allCases)
    func clientsReadSRVWithGlueOverTCP(_ client: Client) throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        let output = try client.query(port: server.port, "_https._tcp.kubernetes.default.svc.cluster.local", "SRV", tcp: true)
        #expect(output.status == "NOERROR", "\(output)")
        #expect(output.data(ofType: "SRV") == ["0 100 443 kubernetes.default.svc.cluster.local."], "\(output)")
        #expect(output.additional.contains { $0.hasPrefix("kubernetes.default.svc.cluster.local.") && $0.hasSuffix("A 10.96.0.1") }, "\(output)")
    }

    @Test(arguments: Client.allCases)
    func clientsSeeNXDOMAINWithTheSOA(_ client: Client) throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        let output = try client.query(port: server.port, "google.com.shop.svc.cluster.local", "A")
        #expect(output.status == "NXDOMAIN", "\(output)")
        #expect(output.flags.contains("aa"), "\(output)")
        #expect(output.authority.contains { $0.contains("SOA ns.dns.cluster.local. hostmaster.cluster.local.") }, "\(output)")
    }

    @Test func headlessServiceAndItsPodNamesResolve() throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        let all = try Client.dig.query(port: server.port, "web.shop.svc.cluster.local")
        #expect(all.data(ofType: "A").sorted() == ["10.244.1.10", "10.244.1.11"], "\(all)")
        let pod = try Client.kdig.query(port: server.port, "web-0.web.shop.svc.cluster.local")
        #expect(pod.data(ofType: "A") == ["10.244.1.10"], "\(pod)")
        let ptr = try Client.drill.query(port: server.port, "11.1.244.10.in-addr.arpa", "PTR")
        #expect(ptr.data(ofType: "PTR") == ["web-1.web.shop.svc.cluster.local."], "\(ptr)")
    }

    @Test func nslookupResolvesAPodName() throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        let result = try run("nslookup", ["-port=\(server.port)", "web-0.web.shop.svc.cluster.local", "127.0.0.1"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Name:\tweb-0.web.shop.svc.cluster.local\nAddress: 10.244.1.10"), "\(result.stdout)")
    }

    @Test func aHundredEndpointsAreTruncatedOverUDPAndWholeOverTCP() throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        // +ignore keeps dig from retrying over TCP, so we see the UDP answer itself.
        let udp = try Client.dig.query(port: server.port, "big.shop.svc.cluster.local", extra: ["+ignore"])
        #expect(udp.flags.contains("tc"), "\(udp)")
        #expect(udp.data(ofType: "A").count < 100, "\(udp)")

        let tcp = try Client.kdig.query(port: server.port, "big.shop.svc.cluster.local", tcp: true)
        #expect(!tcp.flags.contains("tc"), "\(tcp)")
        #expect(Set(tcp.data(ofType: "A")).count == 100, "\(tcp)")

        let drillTCP = try Client.drill.query(port: server.port, "big.shop.svc.cluster.local", tcp: true)
        #expect(drillTCP.data(ofType: "A").count == 100, "\(drillTCP)")

        // Plain dig sees TC and retries over TCP by itself, as resolvers do.
        let fallback = try Client.dig.query(port: server.port, "big.shop.svc.cluster.local")
        #expect(fallback.data(ofType: "A").count == 100, "\(fallback)")
    }

    @Test func namesOutsideTheZoneAreRefused() throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        let output = try Client.dig.query(port: server.port, "example.com", "A")
        #expect(output.status == "REFUSED", "\(output)")
    }

    @Test func aRegistryEditAnswersWithinOneSecondAndABrokenEditKeepsTheLastGoodOne() throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        let before = try Client.dig.query(port: server.port, "fresh.shop.svc.cluster.local")
        #expect(before.status == "NXDOMAIN", "\(before)")

        let fresh = """
            apiVersion: v1
            kind: Service
            metadata:
              name: fresh
              namespace: shop
            spec:
              clusterIP: 10.96.7.7
              ports:
              - name: http
                port: 80

            """
        let written = Date()
        try fresh.write(to: registry.appendingPathComponent("fresh.yaml"), atomically: true, encoding: .utf8)
        var answered: TimeInterval? = nil
        while Date().timeIntervalSince(written) < 3 {
            let output = try Client.dig.query(port: server.port, "fresh.shop.svc.cluster.local")
            if output.data(ofType: "A") == ["10.96.7.7"] {
                answered = Date().timeIntervalSince(written)
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let latency = try #require(answered, "the new service never answered")
        #expect(latency < 1.0, "answered \(latency) s after the write")

        // A half-written, broken file: the last good registry keeps serving and the error is logged.
        try "apiVersion: v1\nkind: Service\nmetadata:\n  name: [broken\n".write(
            to: registry.appendingPathComponent("fresh.yaml"), atomically: true, encoding: .utf8)
        #expect(server.waitForLog(containing: "fresh.yaml", timeout: 3), "\(server.log)")
        let after = try Client.dig.query(port: server.port, "fresh.shop.svc.cluster.local")
        #expect(after.data(ofType: "A") == ["10.96.7.7"], "\(after)")
        let kubernetes = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local")
        #expect(kubernetes.data(ofType: "A") == ["10.96.0.1"], "\(kubernetes)")
    }

    @Test func kubectlsOwnServiceManifestResolves() throws {
        let kubectl = try run("kubectl", ["create", "service", "clusterip", "web", "--tcp=80:8080", "--dry-run=client", "-o", "yaml"])
        try #require(kubectl.status == 0, "kubectl failed: \(kubectl.stderr)")
        let registry = try makeRegistry(["web.yaml": kubectl.stdout])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        let output = try Client.dig.query(port: server.port, "web.default.svc.cluster.local")
        #expect(output.status == "NOERROR", "\(output)")
        let address = try #require(output.data(ofType: "A").first, "\(output)")
        let octets = address.split(separator: ".").compactMap { Int($0) }
        // Allocated from the default service CIDR, 10.96.0.0/12.
        #expect(octets.count == 4 && octets[0] == 10 && (96...111).contains(octets[1]), "\(address)")
        let srv = try Client.kdig.query(port: server.port, "_80-8080._tcp.web.default.svc.cluster.local", "SRV")
        #expect(srv.data(ofType: "SRV") == ["0 100 80 web.default.svc.cluster.local."], "\(srv)")
    }

    @Test func theExampleClusterIsServedByDefault() throws {
        let server = try ClusterDNSServer(arguments: [])
        defer { server.stop() }
        let output = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local")
        #expect(output.status == "NOERROR", "\(output)")
        #expect(output.data(ofType: "A") == ["10.96.0.1"], "\(output)")
        let web = try Client.dig.query(port: server.port, "web-0.web.shop.svc.cluster.local")
        #expect(web.status == "NOERROR" && web.data(ofType: "A").count == 1, "\(web)")
    }

    @Test func checkExitsNonZeroAndNamesTheProblem() throws {
        let registry = try makeRegistry(["bad.yaml": """
            apiVersion: v1
            kind: Service
            metadata:
              name: bad
              namespace: shop
            spec:
              clusterIP: 10.96.0.300
              ports:
              - port: 80

            """])
        defer { try? FileManager.default.removeItem(at: registry) }
        let result = try run(BuiltProducts.clusterdns, ["check", registry.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.yaml"), "\(result.stderr)")
        #expect(result.stderr.contains("10.96.0.300"), "\(result.stderr)")

        let good = try run(BuiltProducts.clusterdns, ["check", BuiltProducts.packageRoot.appendingPathComponent("zones").path])
        #expect(good.status == 0, "\(good.stderr)")
    }

    /// What `kubectl get -o yaml | clusterdns check /dev/stdin` does: a pipe has no size to read up
    /// to, and is read to its end.
    @Test func aManifestPipedInIsChecked() throws {
        let registry = try makeRegistry(["svc.yaml": """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: 10.96.0.300, ports: [{port: 80}]}

            """])
        defer { try? FileManager.default.removeItem(at: registry) }
        let file = registry.appendingPathComponent("svc.yaml").path
        let result = try run("/bin/sh", ["-c", "cat '\(file)' | '\(BuiltProducts.clusterdns)' check /dev/stdin"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/dev/stdin:4") && result.stderr.contains("10.96.0.300"), "\(result.stderr)")
    }
}
