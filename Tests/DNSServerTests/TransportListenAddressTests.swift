import DNSServer
import DNSWire
import Testing

/// `--listen` values: what parses, into which host and port, and what is refused.
@Suite struct TransportListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("[::1]:5353", "::1", 5353),
        ("localhost:53", "localhost", 53),
        ("0.0.0.0:0", "0.0.0.0", 0),
        ("[::]:65535", "::", 65535),
        ("[fe80::1%eth0]:53", "fe80::1%eth0", 53),
        ("[::ffff:10.0.0.1]:53", "::ffff:10.0.0.1", 53),
        ("dns.kube-system.svc:1053", "dns.kube-system.svc", 1053),
    ])
    func parsesHostAndPort(_ text: String, _ host: String, _ port: Int) throws {
        let address = try #require(ListenAddress(text))
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == text)
    }

    @Test(arguments: [
        "", "127.0.0.1", "127.0.0.1:", ":53", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+53",
        "127.0.0.1:5 3", "127.0.0.1:port", "::1:53", "[::1]", "[::1]53", "[]:53", "[::1:53", "[host]:53",
        "local host:53", "127.0.0.1:123456", "[::1]:53x",
    ])
    func refusesMalformedText(_ text: String) {
        #expect(ListenAddress(text) == nil)
    }

    @Test func equalAddressesHashAlike() {
        #expect(ListenAddress("127.0.0.1:53") == ListenAddress(host: "127.0.0.1", port: 53))
        #expect(Set([ListenAddress("[::1]:53")!, ListenAddress("[::1]:53")!]).count == 1)
    }
}
