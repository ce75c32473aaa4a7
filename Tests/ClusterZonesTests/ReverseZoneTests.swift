import ClusterZones
import DNSWire
import SpecSupport
import Testing

/// Partial reverse names: a name above a known address is an empty non-terminal (NOERROR, no
/// records), any other is NXDOMAIN. The expectation here is worked out from the PTR names the
/// zones list, independently of how the zone finds them.
@Suite struct ReverseZoneTests {
    @Test func partialIPv4NamesExistExactlyAboveKnownAddresses() throws {
        let catalog = SpecFixture.catalog()
        let expected = catalog.partialReverseNames
        let octets = [0, 1, 2, 5, 9, 10, 20, 96, 244, 255]
        var partials: [[Int]] = octets.map { [$0] }
        for first in octets { for second in octets { partials.append([first, second]) } }
        for first in [10] { for second in octets { for third in octets { partials.append([first, second, third]) } } }
        var found = 0
        for parts in partials {
            let name = try DNSName(parts.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa")
            let answer = catalog.answer(DNSQuestion(name: name, type: .ptr))
            let exists = expected.contains(name)
            if exists { found += 1 }
            #expect(answer.responseCode == (exists ? .noError : .nameError), "\(name)")
            #expect(answer.answers.isEmpty)
            #expect(answer.authority.map(\.type) == [.soa])
        }
        #expect(found >= 3, "10, 10.96 and 10.96.0 are above the fixture's ClusterIPs")
    }

    @Test func partialIPv6NamesExistExactlyAboveKnownAddresses() throws {
        let catalog = SpecFixture.catalog()
        let expected = catalog.partialReverseNames.filter { $0.isSubdomain(of: try! DNSName("ip6.arpa")) }
        #expect(!expected.isEmpty, "the fixture has dual-stack ClusterIPs")
        for name in expected {
            #expect(catalog.answer(DNSQuestion(name: name, type: .ptr)).responseCode == .noError, "\(name)")
            // The same depth with a different last nibble, unless that one exists too.
            let labels = name.lowercasedLabelStrings
            let changed = (labels[0] == "f" ? "e" : "f")
            let sibling = try DNSName(([changed] + labels.dropFirst()).joined(separator: "."))
            let answer = catalog.answer(DNSQuestion(name: sibling, type: .ptr))
            #expect(answer.responseCode == (expected.contains(sibling) ? .noError : .nameError), "\(sibling)")
        }
    }

    @Test(arguments: [
        "01.0.96.10.in-addr.arpa", "256.0.96.10.in-addr.arpa", "x.0.96.10.in-addr.arpa", "1.1.0.96.10.in-addr.arpa",
        "-1.0.96.10.in-addr.arpa", "g.0.ip6.arpa", "ab.0.ip6.arpa",
    ])
    func labelsThatAreNotAnAddressAreNXDOMAIN(_ text: String) throws {
        let answer = SpecFixture.catalog().answer(DNSQuestion(name: try DNSName(text), type: .ptr))
        #expect(answer.responseCode == .nameError)
    }

    @Test func upperCaseNibblesFindTheAddress() throws {
        let catalog = SpecFixture.catalog()
        let ip6 = try DNSName("ip6.arpa")
        var listed: DNSName?
        for zone in catalog.reverseZones {
            catalog.forEachName(in: zone) { name, types in
                if listed == nil, types == [.ptr], name.isSubdomain(of: ip6) { listed = name }
            }
        }
        let shouted = try DNSName(try #require(listed).description.uppercased())
        let answer = catalog.answer(DNSQuestion(name: shouted, type: .ptr))
        #expect(answer.responseCode == .noError)
        #expect(!answer.answers.isEmpty)
    }
}
