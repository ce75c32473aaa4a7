import Foundation
import Testing

/// `serve --external-zone example.com` asked by dig, kdig and drill over UDP and TCP: a
/// LoadBalancer's ingress and external IPs answer under the zone, a ClusterIP-only Service has no
/// name there, and an edit that exposes a Service is answered while the server runs.
@Suite struct ExternalZoneEndToEndTests {
    static let shop = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec: {type: LoadBalancer, clusterIP: 10.96.0.20, externalIPs: [203.0.113.7], ports: [{name: http, port: 80}]}
        status: {loadBalancer: {ingress: [{ip: 198.51.100.4}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: internal, namespace: shop}
        spec: {clusterIP: 10.96.0.22, ports: [{name: http, port: 80}]}

        """

    @Test(arguments: Client.allCases, [false, true])
    func loadBalancersAnswerUnderTheExternalZoneAndClusterIPsDoNot(client: Client, tcp: Bool) throws {
        let registry = try makeRegistry(["shop.yaml": Self.shop])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--external-zone", "example.com", "--threads", "1"])
        defer { server.stop() }
        let web = try client.query(port: server.port, "web.shop.example.com", tcp: tcp)
        #expect(web.status == "NOERROR" && web.flags.contains("aa"), "\(web)")
        #expect(web.data(ofType: "A").sorted() == ["198.51.100.4", "203.0.113.7"], "\(web)")
        let srv = try client.query(port: server.port, "_http._tcp.web.shop.example.com", "SRV", tcp: tcp)
        #expect(srv.data(ofType: "SRV") == ["0 100 80 web.shop.example.com."], "\(srv)")
        let clusterOnly = try client.query(port: server.port, "internal.shop.example.com", tcp: tcp)
        #expect(clusterOnly.status == "NXDOMAIN", "\(clusterOnly)")
        #expect(clusterOnly.authority.contains { $0.contains("SOA") && $0.contains("ns1.dns.example.com.") }, "\(clusterOnly)")
        // The cluster zone is unchanged beside it.
        #expect(try client.query(port: server.port, "internal.shop.svc.cluster.local", tcp: tcp).data(ofType: "A") == ["10.96.0.22"])
    }

    @Test func aServiceThatGainsAnExternalIPIsAnsweredAfterTheEdit() throws {
        let registry = try makeRegistry(["shop.yaml": Self.shop])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--external-zone", "example.com", "--threads", "1"])
        defer { server.stop() }
        #expect(try Client.dig.query(port: server.port, "internal.shop.example.com").status == "NXDOMAIN")
        let exposed = Self.shop.replacingOccurrences(of: "{clusterIP: 10.96.0.22,", with: "{clusterIP: 10.96.0.22, externalIPs: [203.0.113.22],")
        try exposed.write(to: registry.appendingPathComponent("shop.yaml"), atomically: true, encoding: .utf8)
        #expect(try LiveRegistryEndToEndTests.waitFor(server, "internal.shop.example.com", ["203.0.113.22"]) != nil, "\(server.log)")
    }

    /// AXFR of the external zone, as a public secondary would pull it: SOA, the exposed
    /// Services' records, SOA; nothing of a ClusterIP-only Service.
    @Test func theExternalZoneTransfersWithItsExposedServicesOnly() throws {
        let registry = try makeRegistry(["shop.yaml": Self.shop])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: [
            "--registry", registry.path, "--external-zone", "example.com", "--transfer-to", "127.0.0.1/32", "--threads", "1",
        ])
        defer { server.stop() }
        let transfer = try TransferEndToEndTests.axfr("kdig", port: server.port, zone: "example.com")
        let records = TransferEndToEndTests.recordLines(transfer.output).map { $0.split(separator: " ") }.filter { $0.count >= 5 }
        #expect(transfer.status == 0, "\(transfer.output)")
        #expect(records.first?[3] == "soa" && records.last?[3] == "soa", "\(transfer.output)")
        let owners = Set(records.map { String($0[0]) })
        #expect(owners == ["example.com.", "ns1.dns.example.com.", "web.shop.example.com.", "_http._tcp.web.shop.example.com."], "\(transfer.output)")
        let addresses = records.filter { $0[0] == "web.shop.example.com." && $0[3] == "a" }.map { String($0[4]) }
        #expect(addresses.sorted() == ["198.51.100.4", "203.0.113.7"], "\(transfer.output)")
    }

    @Test func anExternalZoneInsideTheClusterDomainIsRefusedAtStart() throws {
        let result = try run(BuiltProducts.clusterdns, ["serve", "--external-zone", "ext.cluster.local"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("overlaps cluster.local"), "\(result.stderr)")
    }
}
