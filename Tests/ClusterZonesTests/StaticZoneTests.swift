import ClusterZones
import DNSWire
import Foundation
import ServiceRegistry
import Testing

/// A static zone answers as the cluster zone does, from a master file libldns parsed: every case
/// asks the catalog, so routing by origin and case folding are part of what is checked.
@Suite struct StaticZoneTests {
    /// Exact answers, empty non-terminals, CNAMEs, a delegation, a zone-wide wildcard below `apps`.
    static let internalZone = """
        $ORIGIN example.internal.
        $TTL 300
        @        IN SOA ns1 hostmaster 7 3600 600 86400 60
                 IN NS  ns1
                 IN MX  10 Mail
        ns1      IN A   192.0.2.1
        www      IN A   192.0.2.10
        www      IN AAAA 2001:db8::10
        Mail     IN A   192.0.2.25
        txt      IN TXT "hello world" "k=v"
        alias    IN CNAME www
        chain    IN CNAME alias
        dangling IN CNAME missing
        away     IN CNAME www.example.org.
        _sip._tcp.voice IN SRV 10 60 5060 www
        *.apps   IN A   192.0.2.80
        host.apps IN A  192.0.2.81
        lab      IN NS  ns.lab
        lab      IN NS  ns.elsewhere.org.
        ns.lab   IN A   192.0.2.53
        ns.lab   IN AAAA 2001:db8::53
        """

    /// RFC 4592 §2.2.1's example zone, whose answers §2.2.1 and §3.3 spell out.
    static let rfc4592Zone = """
        $ORIGIN example.
        example.                 3600 IN  SOA   ns.example.com. hostmaster.example.com. 1 3600 600 86400 3600
        example.                 3600     NS    ns.example.com.
        example.                 3600     NS    ns.example.net.
        *.example.               3600     TXT   "this is a wildcard"
        *.example.               3600     MX    10 host1.example.
        sub.*.example.           3600     TXT   "this is not a wildcard"
        host1.example.           3600     A     192.0.2.1
        _ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.
        _ssh._tcp.host2.example. 3600     SRV   0 0 22 host2.example.
        subdel.example.          3600     NS    ns.example.com.
        subdel.example.          3600     NS    ns.example.net.
        """

    static func catalog() throws -> Catalog {
        let zones = [
            try StaticZone.parse(text: internalZone, origin: DNSName("example.internal"), file: "example.internal.zone"),
            try StaticZone.parse(text: rfc4592Zone, origin: DNSName("example"), file: "example.zone"),
        ]
        let empty = RegistryStore(options: RegistryOptions()).snapshot
        return Catalog(snapshot: empty, configuration: ZoneConfiguration(domain: try DNSName("cluster.local")), staticZones: zones)
    }

    /// One question and the whole answer expected, records written `owner TYPE rdata`.
    struct Case: CustomTestStringConvertible, Sendable {
        var behaviour: String
        var name: String
        var type: RecordType
        var code: ResponseCode = .noError
        var authoritative = true
        var answers: [String] = []
        var authority: [String] = []
        var additional: [String] = []
        var testDescription: String { "\(behaviour): \(name) \(type)" }
    }

    static let internalSOA = "example.internal. SOA ns1.example.internal. hostmaster.example.internal. 7 3600 600 86400 60"
    static let exampleSOA = "example. SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 3600"

    static let cases: [Case] = [
        Case(behaviour: "exact A", name: "www.example.internal.", type: .a, answers: ["www.example.internal. A 192.0.2.10"]),
        Case(behaviour: "exact AAAA", name: "www.example.internal.", type: .aaaa, answers: ["www.example.internal. AAAA 2001:db8::10"]),
        Case(behaviour: "TXT with two strings", name: "txt.example.internal.", type: .txt, answers: [#"txt.example.internal. TXT "hello world" "k=v""#]),
        Case(
            behaviour: "apex NS with its address in additional", name: "example.internal.", type: .ns,
            answers: ["example.internal. NS ns1.example.internal."], additional: ["ns1.example.internal. A 192.0.2.1"]),
        Case(behaviour: "apex SOA", name: "example.internal.", type: .soa, answers: [internalSOA]),
        Case(
            behaviour: "MX with the exchange's address (owner in the file in capitals)", name: "example.internal.", type: .mx,
            answers: ["example.internal. MX 10 Mail.example.internal."], additional: ["mail.example.internal. A 192.0.2.25"]),
        Case(behaviour: "NODATA at an existing name", name: "www.example.internal.", type: .mx, authority: [internalSOA]),
        Case(behaviour: "NXDOMAIN with the SOA", name: "nothing.example.internal.", type: .a, code: .nameError, authority: [internalSOA]),
        Case(behaviour: "NXDOMAIN below a name that does not exist (RFC 8020)", name: "a.nothing.example.internal.", type: .a, code: .nameError, authority: [internalSOA]),
        Case(behaviour: "NXDOMAIN below an existing leaf", name: "deeper.www.example.internal.", type: .a, code: .nameError, authority: [internalSOA]),
        Case(behaviour: "empty non-terminal is NODATA", name: "voice.example.internal.", type: .a, authority: [internalSOA]),
        Case(behaviour: "inner empty non-terminal is NODATA", name: "_tcp.voice.example.internal.", type: .srv, authority: [internalSOA]),
        Case(
            behaviour: "SRV with the target's addresses", name: "_sip._tcp.voice.example.internal.", type: .srv,
            answers: ["_sip._tcp.voice.example.internal. SRV 10 60 5060 www.example.internal."],
            additional: ["www.example.internal. A 192.0.2.10", "www.example.internal. AAAA 2001:db8::10"]),
        Case(
            behaviour: "CNAME chased in the zone", name: "alias.example.internal.", type: .a,
            answers: ["alias.example.internal. CNAME www.example.internal.", "www.example.internal. A 192.0.2.10"]),
        Case(
            behaviour: "CNAME chain chased to its end", name: "chain.example.internal.", type: .aaaa,
            answers: [
                "chain.example.internal. CNAME alias.example.internal.", "alias.example.internal. CNAME www.example.internal.",
                "www.example.internal. AAAA 2001:db8::10",
            ]),
        Case(behaviour: "CNAME asked for itself is not chased", name: "alias.example.internal.", type: .cname, answers: ["alias.example.internal. CNAME www.example.internal."]),
        Case(
            behaviour: "CNAME to a missing name: NXDOMAIN after the CNAME (RFC 6604)", name: "dangling.example.internal.", type: .a, code: .nameError,
            answers: ["dangling.example.internal. CNAME missing.example.internal."], authority: [internalSOA]),
        Case(
            behaviour: "CNAME chased to NODATA", name: "alias.example.internal.", type: .mx,
            answers: ["alias.example.internal. CNAME www.example.internal."], authority: [internalSOA]),
        Case(behaviour: "CNAME out of the zone stops there", name: "away.example.internal.", type: .a, answers: ["away.example.internal. CNAME www.example.org."]),
        Case(
            behaviour: "referral at a delegation, with glue", name: "lab.example.internal.", type: .a, authoritative: false,
            authority: ["lab.example.internal. NS ns.lab.example.internal.", "lab.example.internal. NS ns.elsewhere.org."],
            additional: ["ns.lab.example.internal. A 192.0.2.53", "ns.lab.example.internal. AAAA 2001:db8::53"]),
        Case(
            behaviour: "referral for a name below a delegation", name: "host.deep.lab.example.internal.", type: .aaaa, authoritative: false,
            authority: ["lab.example.internal. NS ns.lab.example.internal.", "lab.example.internal. NS ns.elsewhere.org."],
            additional: ["ns.lab.example.internal. A 192.0.2.53", "ns.lab.example.internal. AAAA 2001:db8::53"]),
        Case(
            behaviour: "glue below a cut is not answered authoritatively", name: "ns.lab.example.internal.", type: .a, authoritative: false,
            authority: ["lab.example.internal. NS ns.lab.example.internal.", "lab.example.internal. NS ns.elsewhere.org."],
            additional: ["ns.lab.example.internal. A 192.0.2.53", "ns.lab.example.internal. AAAA 2001:db8::53"]),
        Case(behaviour: "DS at a cut is the parent's: NODATA, not a referral", name: "lab.example.internal.", type: RecordType(43), authority: [internalSOA]),
        Case(behaviour: "wildcard synthesizes the asked name", name: "shop.apps.example.internal.", type: .a, answers: ["shop.apps.example.internal. A 192.0.2.80"]),
        Case(behaviour: "existing name under a wildcard's parent is itself", name: "host.apps.example.internal.", type: .a, answers: ["host.apps.example.internal. A 192.0.2.81"]),
        Case(behaviour: "wildcard match with no such type: NODATA", name: "shop.apps.example.internal.", type: .txt, authority: [internalSOA]),
        Case(
            behaviour: "wildcard matches one label only below a closest encloser it owns", name: "a.b.apps.example.internal.", type: .a,
            answers: ["a.b.apps.example.internal. A 192.0.2.80"]),
        Case(
            behaviour: "wildcard does not match below an existing name", name: "x.host.apps.example.internal.", type: .a, code: .nameError,
            authority: [internalSOA]),
        Case(behaviour: "case does not matter", name: "WwW.Example.INTERNAL.", type: .a, answers: ["www.example.internal. A 192.0.2.10"]),
        Case(behaviour: "case does not matter for a wildcard's owner", name: "Shop.APPS.example.internal.", type: .a, answers: ["shop.apps.example.internal. A 192.0.2.80"]),
        // RFC 4592 §2.2.1: "The following responses would be synthesized from one of the wildcards".
        Case(behaviour: "RFC 4592: host3 MX from *.example", name: "host3.example.", type: .mx, answers: ["host3.example. MX 10 host1.example."], additional: ["host1.example. A 192.0.2.1"]),
        Case(behaviour: "RFC 4592: host3 A is NODATA from the wildcard", name: "host3.example.", type: .a, authority: [exampleSOA]),
        Case(behaviour: "RFC 4592: foo.bar TXT from *.example", name: "foo.bar.example.", type: .txt, answers: [#"foo.bar.example. TXT "this is a wildcard""#]),
        // "The following responses would not be synthesized from any of the wildcards".
        Case(behaviour: "RFC 4592: host1 MX exists, NODATA", name: "host1.example.", type: .mx, authority: [exampleSOA]),
        Case(behaviour: "RFC 4592: sub.*.example is a name, NODATA for MX", name: "sub.*.example.", type: .mx, authority: [exampleSOA]),
        Case(behaviour: "RFC 4592: _telnet under an empty non-terminal is NXDOMAIN", name: "_telnet._tcp.host1.example.", type: .srv, code: .nameError, authority: [exampleSOA]),
        Case(
            behaviour: "RFC 4592: below a delegation is a referral", name: "host.subdel.example.", type: .a, authoritative: false,
            authority: ["subdel.example. NS ns.example.com.", "subdel.example. NS ns.example.net."]),
        Case(behaviour: "RFC 4592: ghost.*.example is NXDOMAIN", name: "ghost.*.example.", type: .mx, code: .nameError, authority: [exampleSOA]),
    ]

    static func lines(_ records: [ResourceRecord]) -> [String] {
        records.map { "\($0.name) \($0.type) \($0.data.presentation)" }
    }

    @Test(arguments: cases)
    func answersAsTheFileSays(_ expected: Case) throws {
        let answer = try Self.catalog().answer(DNSQuestion(name: DNSName(expected.name), type: expected.type))
        #expect(answer.responseCode == expected.code)
        #expect(answer.authoritative == expected.authoritative)
        #expect(Self.lines(answer.answers) == expected.answers)
        #expect(Self.lines(answer.authority) == expected.authority)
        #expect(Self.lines(answer.additional) == expected.additional)
    }

    @Test func negativeAnswersCarryTheSOAWithItsMinimumAsTTL() throws {
        let answer = try Self.catalog().answer(DNSQuestion(name: DNSName("nothing.example.internal"), type: .a))
        // $TTL 300, MINIMUM 60: RFC 2308 §5 caches the negative answer for the smaller.
        #expect(answer.authority.map(\.ttl) == [60])
        let positive = try Self.catalog().answer(DNSQuestion(name: DNSName("example.internal"), type: .soa))
        #expect(positive.answers.map(\.ttl) == [300])
    }

    @Test func transferRecordsAreTheFilesRecordsSOAFirst() throws {
        let zone = try StaticZone.parse(text: Self.internalZone, origin: DNSName("example.internal"), file: "example.internal.zone")
        let records = zone.transferRecords()
        #expect(records.first.map { Self.lines([$0]) } == [Self.internalSOA])
        #expect(records.filter { $0.type == .soa }.count == 1)
        let body = Self.internalZone.split(separator: "\n").filter { !$0.hasPrefix("$") && !$0.contains(" SOA ") }
        #expect(records.count == body.count + 1)
        #expect(Self.lines(Array(records.dropFirst(1).prefix(3))) == [
            "example.internal. NS ns1.example.internal.", "example.internal. MX 10 Mail.example.internal.", "ns1.example.internal. A 192.0.2.1",
        ])
        #expect(records.allSatisfy { $0.ttl == 300 && $0.class == .in })
    }

    @Test(arguments: [
        ("www IN A 192.0.2.300\n", 2, "Syntax error, could not parse the RR's rdata"),
        ("www IN BOGUS 1\n", 2, nil),
        ("www IN A 192.0.2.1\n\n\nmail IN MX ten mail\n", 5, nil),
    ] as [(String, Int, String?)])
    func aSyntaxErrorNamesTheFileAndTheLineAsLibldnsGivesThem(_ body: String, _ line: Int, _ reason: String?) throws {
        let text = "@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 60\n" + body
        #expect {
            _ = try StaticZone.parse(text: text, origin: DNSName("example.internal"), file: "zones/broken.zone")
        } throws: { error in
            guard let error = error as? StaticZoneError else { return false }
            return error.file == "zones/broken.zone" && error.line == line && (reason.map { error.reason == $0 } ?? true)
                && error.description.hasPrefix("zones/broken.zone:\(line): ")
        }
    }

    @Test(arguments: [
        ("www IN A 192.0.2.1\n", "has no SOA record"),
        ("@ IN SOA ns1 hostmaster 1 3600 600 86400 60\nwww.example.org. IN A 192.0.2.1\n", "www.example.org. A is outside the zone example.internal."),
        ("@ IN SOA ns1 hostmaster 1 3600 600 86400 60\nwww IN CNAME web\nwww IN A 192.0.2.1\n", "a CNAME must stand alone"),
        ("sub IN SOA ns1 hostmaster 1 3600 600 86400 60\n", "not at the zone's origin"),
    ])
    func zoneRulesTheParserDoesNotCheckAreErrors(_ text: String, _ reason: String) throws {
        #expect {
            _ = try StaticZone.parse(text: text, origin: DNSName("example.internal"), file: "bad.zone")
        } throws: { error in
            (error as? StaticZoneError).map { $0.reason.contains(reason) && $0.file == "bad.zone" } ?? false
        }
    }

    @Test(arguments: ["cluster.local", "svc.cluster.local", "in-addr.arpa", "10.in-addr.arpa", "ip6.arpa"])
    func aZoneInsideTheRegistrysZonesIsRefused(_ origin: String) throws {
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"))
        let conflict = StaticZoneFile.conflict(of: try DNSName(origin), with: configuration)
        #expect(conflict?.contains("may not shadow") == true)
        #expect(StaticZoneFile.conflict(of: try DNSName("local"), with: configuration) == nil)
        #expect(StaticZoneFile.conflict(of: try DNSName("example.internal"), with: configuration) == nil)
    }

    @Test func zoneFileArgumentsAreOriginEqualsPath() throws {
        #expect(StaticZoneFile(argument: "Example.Internal=/etc/z.zone") == StaticZoneFile(origin: try DNSName("example.internal"), path: "/etc/z.zone"))
        #expect(StaticZoneFile(argument: "/etc/z.zone") == nil)
        #expect(StaticZoneFile(argument: "example.internal=") == nil)
    }

    @Test func theRegistrysZonesStillAnswerBesideStaticOnes() throws {
        let catalog = try Self.catalog()
        let apex = catalog.answer(DNSQuestion(name: try DNSName("cluster.local"), type: .soa))
        #expect(apex.answers.first?.name == (try DNSName("cluster.local")))
        #expect(catalog.holds(try DNSName("anything.example.internal")))
        #expect(!catalog.holds(try DNSName("example.org")))
        #expect(catalog.answer(DNSQuestion(name: try DNSName("example.org"), type: .a)) == .refused)
    }

    @Test func aCatalogAwaitingTheRegistryStillAnswersStaticZones() throws {
        let zone = try StaticZone.parse(text: Self.internalZone, origin: DNSName("example.internal"), file: "example.internal.zone")
        let empty = RegistryStore(options: RegistryOptions()).snapshot
        let catalog = Catalog(snapshot: empty, configuration: ZoneConfiguration(domain: try DNSName("cluster.local")), awaitingRegistry: true, staticZones: [zone])
        #expect(catalog.answer(DNSQuestion(name: try DNSName("www.example.internal"), type: .a)).answers.count == 1)
        #expect(catalog.answer(DNSQuestion(name: try DNSName("kubernetes.default.svc.cluster.local"), type: .a)).responseCode == .serverFailure)
    }

    /// What lets a table compiled for one catalog serve another: only swapping static zones keeps
    /// the registry's zones; building the catalog again, even of the same snapshot, does not.
    @Test func swappingStaticZonesKeepsTheRegistryZonesAndNothingElseDoes() throws {
        let catalog = try Self.catalog()
        let swapped = catalog.replacingStaticZones([])
        #expect(swapped.hasRegistryZones(of: catalog))
        #expect(swapped.staticZones.isEmpty && catalog.staticZones.count == 2)
        #expect(swapped.answer(DNSQuestion(name: try DNSName("www.example.internal"), type: .a)) == .refused)
        let rebuilt = Catalog(snapshot: catalog.snapshot, configuration: catalog.configuration, staticZones: catalog.staticZones)
        #expect(!rebuilt.hasRegistryZones(of: catalog))
    }
}

