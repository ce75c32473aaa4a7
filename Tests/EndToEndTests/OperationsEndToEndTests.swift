import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// /metrics, /health and /ready as Prometheus, promtool, curl and a kubelet's probes see them, and
/// the lameduck shutdown a rolling update relies on.
@Suite(.serialized) struct OperationsEndToEndTests {
    private func startServer(_ extra: [String] = []) throws -> (ClusterDNSServer, http: Int, URL) {
        let registry = try EndToEndRegistry.directory()
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--http-listen", "127.0.0.1:0", "--threads", "1"] + extra)
        let http = try #require(server.httpPort, "no HTTP port in the log:\n\(server.log)")
        return (server, http, registry)
    }

    @Test(arguments: ["batch", "nio"])
    func metricsPassPromtoolAndCountEveryQuerySent(udpEngine: String) throws {
        let (server, http, registry) = try startServer(["--udp-engine", udpEngine])
        defer {
            server.stop()
            try? FileManager.default.removeItem(at: registry)
        }
        for _ in 0..<5 { #expect(try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local").status == "NOERROR") }
        for _ in 0..<3 { #expect(try Client.dig.query(port: server.port, "missing.default.svc.cluster.local").status == "NXDOMAIN") }
        for _ in 0..<2 { #expect(try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local", "AAAA", tcp: true).status == "NOERROR") }
        #expect(try Client.dig.query(port: server.port, "example.com").status == "REFUSED")

        let response = try httpGet(http, "/metrics")
        #expect(response.status == 200)
        let promtool = try promtoolCheck(response.body)
        #expect(promtool.status == 0, "promtool: \(promtool.output)")

        let scrape = Scrape(response.body)
        #expect(scrape.sum("coredns_dns_requests_total", ["server": "dns://127.0.0.1:\(server.port)"]) == 11, "\(scrape.text)")
        #expect(scrape.sum("coredns_dns_requests_total", ["proto": "udp", "type": "A", "family": "1"]) == 9)
        #expect(scrape.sum("coredns_dns_requests_total", ["proto": "tcp", "type": "AAAA"]) == 2)
        #expect(scrape.sum("coredns_dns_responses_total", ["rcode": "NOERROR", "plugin": "kubernetes"]) == 7)
        #expect(scrape.sum("coredns_dns_responses_total", ["rcode": "NXDOMAIN", "plugin": "kubernetes"]) == 3)
        #expect(scrape.sum("coredns_dns_responses_total", ["rcode": "REFUSED", "plugin": ""]) == 1)
        #expect(scrape.sum("coredns_dns_request_duration_seconds_count") == 11)
        #expect(scrape.sum("coredns_dns_request_duration_seconds_bucket", ["le": "+Inf"]) == 11)
        #expect(scrape.sum("coredns_dns_response_size_bytes_count", ["proto": "tcp"]) == 2)
        #expect(scrape.sum("clusterdns_dns_answer_path_total") == 11)
        // kubernetes, web and the big headless Service of EndToEndRegistry.
        #expect(scrape.sum("clusterdns_registry_objects", ["kind": "Service"]) == 3)
        #expect(scrape.sum("coredns_build_info") == 1)
    }

    @Test func healthAndReadyAnswerOnceTheRegistryIsServed() throws {
        let (server, http, registry) = try startServer()
        defer {
            server.stop()
            try? FileManager.default.removeItem(at: registry)
        }
        #expect(try httpGet(http, "/health") == (200, "OK"))
        #expect(try httpGet(http, "/ready") == (200, "OK"))
        #expect(try httpGet(http, "/nothing").status == 404)
    }

    /// No etcd member answers: the replica is up (health) but has no registry to serve (not ready).
    @Test func readyFailsUntilTheRegistryIsListed() throws {
        let server = try ClusterDNSServer(arguments: ["--etcd", "http://127.0.0.1:9", "--http-listen", "127.0.0.1:0", "--threads", "1"])
        defer { server.stop() }
        let http = try #require(server.httpPort, "\(server.log)")
        #expect(try httpGet(http, "/health") == (200, "OK"))
        #expect(try httpGet(http, "/ready") == (503, "registry"))
        #expect(try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local").status == "SERVFAIL")
    }

    @Test func sigtermFailsReadyAtOnceAndAnswersUntilTheLameduckEnds() throws {
        let (server, http, registry) = try startServer(["--lameduck", "2"])
        defer {
            server.stop()
            try? FileManager.default.removeItem(at: registry)
        }
        #expect(try httpGet(http, "/ready").status == 200)
        let stopped = Date()
        #expect(kill(server.pid, SIGTERM) == 0)
        #expect(server.waitForLog(containing: "lameduck", timeout: 2), "\(server.log)")
        #expect(try httpGet(http, "/ready") == (503, "Shutting down"))
        #expect(try httpGet(http, "/health") == (200, "OK"))
        let answer = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local")
        #expect(answer.data(ofType: "A") == ["10.96.0.1"], "\(answer)")
        #expect(server.waitForLog(containing: "DNS listener stopped", timeout: 10), "\(server.log)")
        #expect(Date().timeIntervalSince(stopped) >= 2)
    }

    @Test func anEditIsCountedInTheProgrammingLatency() throws {
        let (server, http, registry) = try startServer()
        defer {
            server.stop()
            try? FileManager.default.removeItem(at: registry)
        }
        let edited = EndToEndRegistry.manifests.replacingOccurrences(of: "clusterIP: 10.96.0.1\n", with: "clusterIP: 10.96.0.2\n")
        try #require(edited != EndToEndRegistry.manifests)
        try edited.write(to: registry.appendingPathComponent("cluster.yaml"), atomically: true, encoding: .utf8)
        #expect(server.waitForLog(containing: "serving serial", timeout: 5), "\(server.log)")
        let scrape = Scrape(try httpGet(http, "/metrics").body)
        #expect(scrape.sum("coredns_kubernetes_dns_programming_duration_seconds_count", ["service_kind": "cluster_ip"]) == 1, "\(scrape.text)")
        #expect(scrape.sum("clusterdns_registry_last_change_age_seconds") < 5)
    }
}
