import ClusterZones
import DNSWire
@testable import ServiceRegistry
import Testing

/// `--external-zone example.com` (CoreDNS's `k8s_external`): the Services reachable from outside,
/// by their external IPs and load-balancer ingress, under a zone of their own.
@Suite struct ExternalZoneTests {
    static let manifest = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          type: LoadBalancer
          clusterIP: 10.96.0.20
          externalIPs: [203.0.113.7]
          ports: [{name: http, port: 80, protocol: TCP}, {name: https, port: 443, protocol: TCP}]
        status: {loadBalancer: {ingress: [{ip: 198.51.100.4}, {ip: "2001:db8::4"}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: cdn, namespace: shop}
        spec: {type: LoadBalancer, clusterIP: 10.96.0.21, ports: [{name: http, port: 80}]}
        status: {loadBalancer: {ingress: [{hostname: lb-1234.elb.example.net}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: internal, namespace: shop}
        spec: {clusterIP: 10.96.0.22, ports: [{name: http, port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: only, namespace: quiet}
        spec: {clusterIP: 10.96.0.30, ports: [{name: http, port: 80}]}

        """

    static func objects(_ text: String) -> [RegistryObject] {
        DecodedFile(ManifestFile(path: "external.yaml", contents: .success(text))).objects
    }

    static func configuration() throws -> ZoneConfiguration {
        var configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), nameServerAddresses: [IPAddress("192.0.2.53")!])
        configuration.externalOrigins = [try DNSName("Example.COM")]
        return configuration
    }

    static func catalog() throws -> Catalog {
        var store = RegistryStore()
        _ = store.apply([.replaceAll(objects(manifest))], serial: 7)
        return Catalog(snapshot: store.snapshot, configuration: try configuration())
    }

    /// What a name answers: "owner TYPE data" per record (no TTL or class), sorted.
    static func ask(_ catalog: Catalog, _ name: String, _ type: RecordType) throws -> (code: ResponseCode, answers: [String], authority: [RecordType], additional: [String]) {
        let answer = catalog.answer(DNSQuestion(name: try DNSName(name), type: type))
        func text(_ record: ResourceRecord) -> String { "\(record.name) \(record.type) \(record.data.presentation)" }
        return (answer.responseCode, answer.answers.map(text).sorted(), answer.authority.map(\.type), answer.additional.map(text).sorted())
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let type: RecordType
        let code: ResponseCode
        let answers: [String]
        var testDescription: String { "\(name) \(type)" }
    }

    static let cases: [Case] = [
        Case(name: "web.shop.example.com", type: .a, code: .noError, answers: ["web.shop.example.com. A 198.51.100.4", "web.shop.example.com. A 203.0.113.7"]),
        Case(name: "WEB.Shop.example.com", type: .aaaa, code: .noError, answers: ["web.shop.example.com. AAAA 2001:db8::4"]),
        Case(name: "web.shop.example.com", type: .txt, code: .noError, answers: []),
        Case(name: "web.shop.example.com", type: .srv, code: .noError, answers: [
            "web.shop.example.com. SRV 0 50 443 web.shop.example.com.", "web.shop.example.com. SRV 0 50 80 web.shop.example.com.",
        ]),
        Case(name: "_https._tcp.web.shop.example.com", type: .srv, code: .noError, answers: ["_https._tcp.web.shop.example.com. SRV 0 100 443 web.shop.example.com."]),
        Case(name: "_tcp.web.shop.example.com", type: .srv, code: .noError, answers: []),
        Case(name: "_udp.web.shop.example.com", type: .srv, code: .nameError, answers: []),
        Case(name: "_ftp._tcp.web.shop.example.com", type: .srv, code: .nameError, answers: []),
        Case(name: "cdn.shop.example.com", type: .a, code: .noError, answers: ["cdn.shop.example.com. CNAME lb-1234.elb.example.net."]),
        // ClusterIP only: no name outside the cluster, and a namespace with none has none either.
        Case(name: "internal.shop.example.com", type: .a, code: .nameError, answers: []),
        Case(name: "only.quiet.example.com", type: .a, code: .nameError, answers: []),
        Case(name: "quiet.example.com", type: .a, code: .nameError, answers: []),
        Case(name: "shop.example.com", type: .a, code: .noError, answers: []),
        Case(name: "below.web.shop.example.com", type: .a, code: .nameError, answers: []),
        Case(name: "example.com", type: .ns, code: .noError, answers: ["example.com. NS ns1.dns.example.com."]),
        Case(name: "example.com", type: .soa, code: .noError, answers: ["example.com. SOA ns1.dns.example.com. hostmaster.dns.example.com. 7 7200 1800 86400 5"]),
        Case(name: "ns1.dns.example.com", type: .a, code: .noError, answers: ["ns1.dns.example.com. A 192.0.2.53"]),
        Case(name: "dns.example.com", type: .a, code: .noError, answers: []),
    ]

    @Test(arguments: cases)
    func answers(_ expected: Case) throws {
        let got = try Self.ask(try Self.catalog(), expected.name, expected.type)
        #expect(got.code == expected.code)
        #expect(got.answers == expected.answers.sorted())
        // Negative answers carry the zone's SOA; positive ones none.
        #expect(got.authority == (expected.answers.isEmpty ? [.soa] : []))
    }

    @Test func srvAnswersCarryTheExternalAddressesAsGlue() throws {
        let got = try Self.ask(try Self.catalog(), "_http._tcp.web.shop.example.com", .srv)
        #expect(got.additional == ["web.shop.example.com. A 198.51.100.4", "web.shop.example.com. A 203.0.113.7", "web.shop.example.com. AAAA 2001:db8::4"])
    }

    /// What AXFR sends of the zone: its SOA first, then every RRset queries are answered with.
    @Test func aTransferListsEveryRecordTheZoneAnswers() throws {
        let zone = try #require(try Self.catalog().externalZones.first)
        let records = zone.transferRecords().map { "\($0.name) \($0.type) \($0.data.presentation)" }
        #expect(records == [
            "example.com. SOA ns1.dns.example.com. hostmaster.dns.example.com. 7 7200 1800 86400 5",
            "example.com. NS ns1.dns.example.com.",
            "ns1.dns.example.com. A 192.0.2.53",
            "cdn.shop.example.com. CNAME lb-1234.elb.example.net.",
            "web.shop.example.com. A 203.0.113.7",
            "web.shop.example.com. A 198.51.100.4",
            "web.shop.example.com. AAAA 2001:db8::4",
            "web.shop.example.com. SRV 0 50 80 web.shop.example.com.",
            "web.shop.example.com. SRV 0 50 443 web.shop.example.com.",
            "_http._tcp.web.shop.example.com. SRV 0 100 80 web.shop.example.com.",
            "_https._tcp.web.shop.example.com. SRV 0 100 443 web.shop.example.com.",
        ])
    }

    @Test func theZoneIsHeldAndTheClusterZoneIsUnchanged() throws {
        let catalog = try Self.catalog()
        #expect(catalog.holds(try DNSName("anything.example.com")))
        #expect(!catalog.holds(try DNSName("example.org")))
        let inCluster = try Self.ask(catalog, "internal.shop.svc.cluster.local", .a)
        #expect(inCluster.answers == ["internal.shop.svc.cluster.local. A 10.96.0.22"])
    }

    /// A change patches the catalog: a Service that gains an external IP gets its name (and its
    /// namespace exists), one that loses its last loses both; the same as a catalog built whole.
    @Test func changesAreFollowedAsInACatalogBuiltWhole() throws {
        var store = RegistryStore()
        _ = store.apply([.replaceAll(Self.objects(Self.manifest))], serial: 1)
        var catalog = Catalog(snapshot: store.snapshot, configuration: try Self.configuration())
        let exposed = Self.objects("""
            apiVersion: v1
            kind: Service
            metadata: {name: only, namespace: quiet}
            spec: {clusterIP: 10.96.0.30, externalIPs: [203.0.113.30], ports: [{name: http, port: 80}]}

            """)
        let steps: [(events: [RegistryEvent], name: String, exists: Bool)] = [
            ([.upsert(exposed[0])], "quiet.example.com", true),
            ([.delete(exposed[0].key)], "quiet.example.com", false),
            ([.delete(Self.objects(Self.manifest)[0].key)], "shop.example.com", true),
            ([.delete(Self.objects(Self.manifest)[1].key)], "shop.example.com", false),
        ]
        for (serial, step) in steps.enumerated() {
            let applied = store.apply(step.events, serial: UInt32(serial + 2))
            let update = try #require(applied)
            catalog = catalog.applying(update).catalog
            let whole = Catalog(snapshot: store.snapshot, configuration: try Self.configuration())
            for name in ["only.quiet.example.com", "quiet.example.com", "web.shop.example.com", "shop.example.com", "cdn.shop.example.com"] {
                #expect(try Self.ask(catalog, name, .a).code == Self.ask(whole, name, .a).code, "step \(serial): \(name)")
                #expect(try Self.ask(catalog, name, .a).answers == Self.ask(whole, name, .a).answers, "step \(serial): \(name)")
            }
            #expect(try Self.ask(catalog, step.name, .a).code == (step.exists ? .noError : .nameError), "step \(serial)")
        }
    }
}
