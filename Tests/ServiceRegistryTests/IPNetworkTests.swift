import ServiceRegistry
import Testing

/// Service CIDRs as `--service-cidr` takes them.
@Suite struct IPNetworkTests {
    @Test(arguments: [
        ("10.96.0.0/12", "10.96.0.0/12"),
        ("10.96.0.1/12", "10.96.0.0/12"),
        ("fd00:10:96::/112", "fd00:10:96::/112"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("2001:db8::1/128", "2001:db8::1/128"),
    ])
    func validNetworksParseAndPrintCanonically(text: String, canonical: String) throws {
        let network = try #require(IPNetwork(text))
        #expect(network.description == canonical)
    }

    @Test(arguments: ["10.96.0.0", "10.96.0.0/33", "fd00::/129", "10.96.0.0/-1", "nonsense/12", "10.96.0.0/1 2", ""])
    func invalidNetworksAreRejected(text: String) {
        #expect(IPNetwork(text) == nil)
    }

    @Test func containsChecksPrefixAndFamily() {
        let v4 = IPNetwork("10.96.0.0/12")!
        #expect(v4.contains(IPAddress("10.96.0.1")!))
        #expect(v4.contains(IPAddress("10.111.255.254")!))
        #expect(!v4.contains(IPAddress("10.112.0.0")!))
        #expect(!v4.contains(IPAddress("::ffff:10.96.0.1")!))
        let v6 = IPNetwork("fd00:10:96::/112")!
        #expect(v6.contains(IPAddress("fd00:10:96::ffff")!))
        #expect(!v6.contains(IPAddress("fd00:10:96::1:0")!))
        #expect(v6.prefixLength == 112 && v6.address == IPAddress("fd00:10:96::")!)
    }
}
