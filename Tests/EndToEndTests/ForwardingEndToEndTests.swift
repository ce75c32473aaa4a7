import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The end-to-end registry plus an ExternalName `db.shop` to a name outside the cluster.
enum ForwardingRegistry {
    static let externalName = """
        apiVersion: v1
        kind: Service
        metadata:
          name: db
          namespace: shop
        spec:
          type: ExternalName
          externalName: db.example.com

        """

    static func directory() throws -> URL {
        try makeRegistry(["cluster.yaml": EndToEndRegistry.manifests, "db.yaml": externalName])
    }
}

/// An unbound upstream and a `serve --forward` to it on that registry; `stop()` ends both.
struct ForwardingServer {
    let upstream: UnboundUpstream
    let registry: URL
    let server: ClusterDNSServer
    var port: Int { server.port }

    init(_ arguments: [String] = [], listen: String = "127.0.0.1:0") throws {
        upstream = try UnboundUpstream()
        registry = try ForwardingRegistry.directory()
        server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--forward", upstream.address] + arguments, listen: listen)
    }

    func stop() {
        server.stop()
        upstream.kill()
        try? FileManager.default.removeItem(at: registry)
    }
}

/// `serve --forward` against a real unbound standing in for the internet, asked with dig.
@Suite(.serialized, .enabled(if: UnboundUpstream.isInstalled, "unbound is not installed: apt-get install unbound (.ci/run does)"))
struct ForwardingEndToEndTests {
    @Test(arguments: [false, true])
    func aNameOutsideTheClusterIsAnsweredByTheUpstream(overTCP: Bool) throws {
        let server = try ForwardingServer()
        defer { server.stop() }

        let output = try Client.dig.query(port: server.port, "WWW.Example.com", "A", tcp: overTCP)
        #expect(output.status == "NOERROR", "\(output)")
        #expect(output.data(ofType: "A") == ["93.184.216.34"], "\(output)")
        #expect(output.flags.contains("ra") && !output.flags.contains("aa"), "\(output)")
        #expect(output.question == "WWW.Example.com.", "the client's spelling comes back: \(output)")
        let mail = try Client.kdig.query(port: server.port, "mail.example.com", "MX", tcp: overTCP)
        #expect(mail.data(ofType: "MX") == ["10 mx1.example.com."], "\(mail)")
        // Cluster names are still ours, authoritative.
        let cluster = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local", "A", tcp: overTCP)
        #expect(cluster.flags.contains("aa") && cluster.data(ofType: "A") == ["10.96.0.1"], "\(cluster)")
    }

    @Test func anExternalNameCarriesItsCNAMEAndTheTargetsRecordsFromUpstream() throws {
        let server = try ForwardingServer()
        defer { server.stop() }

        let output = try Client.dig.query(port: server.port, "db.shop.svc.cluster.local", "A")
        #expect(output.status == "NOERROR", "\(output)")
        #expect(output.data(ofType: "CNAME") == ["db.example.com.", "db-host.example.net."], "\(output)")
        #expect(output.data(ofType: "A") == ["198.51.100.7"], "\(output)")
        #expect(output.flags.contains("aa"), "our CNAME comes first, so the answer is ours: \(output)")
        // The CNAME alone when asked for it.
        let cname = try Client.kdig.query(port: server.port, "db.shop.svc.cluster.local", "CNAME")
        #expect(cname.data(ofType: "CNAME") == ["db.example.com."], "\(cname)")
    }

    @Test func anExternalNameStaysACNAMEAloneWithoutForwarding() throws {
        let registry = try ForwardingRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }

        let output = try Client.dig.query(port: server.port, "db.shop.svc.cluster.local", "A")
        #expect(output.data(ofType: "CNAME") == ["db.example.com."] && output.data(ofType: "A").isEmpty, "\(output)")
        #expect(try Client.dig.query(port: server.port, "www.example.com", "A").status == "REFUSED")
    }

    @Test func aMissingNameIsNXDOMAINWithTheUpstreamsSOA() throws {
        let server = try ForwardingServer()
        defer { server.stop() }

        let output = try Client.dig.query(port: server.port, "nothing-here.example.com", "A")
        #expect(output.status == "NXDOMAIN", "\(output)")
        #expect(output.authority.contains { $0.hasPrefix(". 60 IN SOA ns.example. hostmaster.example. 1") }, "\(output)")
    }

    @Test func aLargeAnswerIsFetchedOverTCPAfterTheUpstreamTruncatesIt() throws {
        let server = try ForwardingServer()
        defer { server.stop() }

        // 12 TXT records of 200 bytes: over unbound's 1232-byte UDP limit, so its UDP reply has TC
        // set and the forwarder asks again over TCP. Our own UDP reply is truncated too.
        let udp = try Client.dig.query(port: server.port, "big.example.com", "TXT", extra: ["+ignore"])
        #expect(udp.flags.contains("tc"), "\(udp)")
        // With the upstream gone, the whole answer can only come from what the forwarder fetched.
        server.upstream.kill()
        let tcp = try Client.dig.query(port: server.port, "big.example.com", "TXT", tcp: true)
        #expect(tcp.status == "NOERROR" && tcp.data(ofType: "TXT").count == 12, "\(tcp)")
    }

    @Test func aCachedAnswerIsGivenWithoutTheUpstreamWithItsTTLCountingDown() throws {
        let server = try ForwardingServer(["--serve-stale", "0"])
        defer { server.stop() }

        let first = try Client.dig.query(port: server.port, "www.example.com", "A")
        #expect(first.data(ofType: "A") == ["93.184.216.34"], "\(first)")
        server.upstream.kill()
        sleep(1)
        let second = try Client.dig.query(port: server.port, "www.example.com", "A")
        #expect(second.data(ofType: "A") == ["93.184.216.34"], "\(second)")
        let ttl = second.answers.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        #expect((1..<300).contains(ttl), "\(second)")
        // Nothing cached and nobody to ask: SERVFAIL, quickly.
        let start = Date()
        let missing = try Client.dig.query(port: server.port, "uncached.example.com", "A")
        #expect(missing.status == "SERVFAIL", "\(missing)")
        #expect(Date().timeIntervalSince(start) < 2.5)
    }

    @Test func forwardedQueriesAndCacheHitsAreCountedInTheMetrics() throws {
        let server = try ForwardingServer(["--http-listen", "127.0.0.1:0", "--threads", "1"])
        defer { server.stop() }
        let http = try #require(server.server.httpPort, "\(server.server.log)")

        for _ in 0..<3 { #expect(try Client.dig.query(port: server.port, "www.example.com", "A").status == "NOERROR") }
        #expect(try Client.dig.query(port: server.port, "www.example.com", "A", tcp: true).status == "NOERROR")
        #expect(try Client.dig.query(port: server.port, "missing.example.com", "A").status == "NXDOMAIN")

        let response = try httpGet(http, "/metrics")
        let promtool = try promtoolCheck(response.body)
        #expect(promtool.status == 0, "promtool: \(promtool.output)")
        let scrape = Scrape(response.body)
        // Two went upstream (www once, missing once); three were cache hits.
        #expect(scrape.sum("coredns_dns_responses_total", ["plugin": "forward"]) == 2, "\(scrape.text)")
        #expect(scrape.sum("coredns_dns_responses_total", ["plugin": "cache"]) == 3)
        #expect(scrape.sum("coredns_dns_responses_total", ["plugin": "forward", "rcode": "NXDOMAIN"]) == 1)
        #expect(scrape.sum("coredns_dns_requests_total") == 5)
        #expect(scrape.sum("coredns_cache_hits_total") == 3)
        #expect(scrape.sum("coredns_cache_entries", ["type": "success"]) == 1)
        #expect(scrape.sum("coredns_cache_entries", ["type": "denial"]) == 1)
        #expect(scrape.sum("coredns_proxy_request_duration_seconds_count", ["to": server.upstream.address]) >= 2)
        #expect(scrape.sum("coredns_proxy_request_duration_seconds_count", ["rcode": "NXDOMAIN"]) == 1)
    }

    @Test func aDeadUpstreamIsMarkedDownTheOtherTakesOverAndStaleAnswersCoverBoth() throws {
        let first = try UnboundUpstream(identity: "first")
        let second = try UnboundUpstream(identity: "second")
        let registry = try ForwardingRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: [
            "--registry", registry.path, "--forward", first.address, "--forward", second.address, "--policy", "sequential",
        ])
        defer { server.stop() }

        let before = try Client.dig.query(port: server.port, "who.example", "TXT")
        #expect(before.data(ofType: "TXT") == ["\"first\""], "sequential asks the first: \(before)")
        let short = try Client.dig.query(port: server.port, "short.example.com", "A")
        #expect(short.data(ofType: "A") == ["192.0.2.2"], "\(short)")

        first.kill()
        let after = try Client.dig.query(port: server.port, "who.example", "TXT")
        #expect(after.data(ofType: "TXT") == ["\"second\""], "the second takes over: \(after)")
        #expect(server.waitForLog(containing: "upstream \(first.address) is down after 2 failed health checks", timeout: 5), "\(server.log)")

        // Both gone, and short.example.com (TTL 2) expired: RFC 8767's stale answer, TTL 30.
        second.kill()
        sleep(3)
        let stale = try Client.dig.query(port: server.port, "short.example.com", "A")
        #expect(stale.status == "NOERROR" && stale.data(ofType: "A") == ["192.0.2.2"], "\(stale)")
        #expect(stale.answers.first?.split(separator: " ")[1] == "30", "\(stale)")
    }

    @Test func aForwarderThatSendsOurQueriesBackIsALoopAndServeExits1() throws {
        let port = try freeLoopbackPort()
        let registry = try ForwardingRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let child = try ChildProcess([
            BuiltProducts.clusterdns, "serve", "--registry", registry.path, "--listen", "127.0.0.1:\(port)", "--forward", "127.0.0.1:\(port)",
        ])
        defer { child.removeFiles() }
        let status = child.wait(timeout: 20)
        #expect(status == 1, "\(child.stderr)")
        #expect(child.stderr.contains("forwarding loop detected"), "\(child.stderr)")
    }
}
