#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ServiceRegistry
import SpecSupport
import Testing

/// IPv4 is parsed by hand (`IPAddress(utf8:)`); glibc's `inet_pton`, which parsed it before, is the
/// reference: every text it takes gives the same address, every text it refuses is refused.
@Suite struct IPAddressParsingTests {
    /// What glibc makes of `text` as IPv4: its 32 bits, or nil when it refuses it.
    private static func glibcIPv4(_ text: String) -> UInt32? {
        var storage = in_addr()
        guard inet_pton(AF_INET, text, &storage) == 1 else { return nil }
        return UInt32(bigEndian: storage.s_addr)
    }

    private static func parsed(_ text: String) -> IPAddress? {
        var text = text
        let fromBytes = text.withUTF8 { IPAddress(utf8: $0) }
        #expect(fromBytes == IPAddress(text), "the two entry points disagree on \(text)")
        return fromBytes
    }

    @Test(arguments: [
        "10.96.0.1", "0.0.0.0", "255.255.255.255", "1.2.3.4", "192.168.100.200", "10.0.0.10",
        // Refused by inet_pton: leading zeros, parts above 255, short, long and empty forms.
        "01.2.3.4", "1.2.3.04", "00.0.0.0", "256.1.1.1", "1.2.3.256", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3",
        "1..2.3", "", ".", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "0x1.2.3.4", "1.2.3.4a", "4294967295", "1.2.3.999",
        "1.2.3.1000", "9.9.9.9999",
    ])
    func dottedQuadsParseAsGlibcParsesThem(text: String) {
        let expected = Self.glibcIPv4(text).map { IPAddress.v4($0) }
        #expect(Self.parsed(text) == expected)
    }

    /// Texts of three to five parts of up to four digits (some of them zeros, some a part's
    /// largest values), now and then with a byte changed, drawn from a seeded generator: the parts
    /// around 255, the leading zeros and the misplaced dots a table would miss.
    @Test func randomDottedTextsParseAsGlibcParsesThem() {
        var generator = SplitMix(seed: 31)
        let digits = Array("0123456789255000")
        let strays = Array(".x: -")
        var accepted = 0
        for _ in 0..<20_000 {
            let parts = (0..<[3, 4, 4, 4, 5].randomElement(using: &generator)!).map { _ in
                String((0..<[0, 1, 1, 2, 3, 3, 3, 4].randomElement(using: &generator)!).map { _ in digits.randomElement(using: &generator)! })
            }
            var text = Array(parts.joined(separator: "."))
            if !text.isEmpty, Int.random(in: 0..<8, using: &generator) == 0 {
                text[Int.random(in: 0..<text.count, using: &generator)] = strays.randomElement(using: &generator)!
            }
            let candidate = String(text)
            let expected = Self.glibcIPv4(candidate)
            if expected != nil { accepted += 1 }
            if candidate.contains(":") {
                // IPv6 is still inet_pton's to read; a colon makes this no IPv4 address.
                #expect(Self.parsed(candidate)?.isIPv4 != true, "\(candidate)")
            } else {
                #expect(Self.parsed(candidate) == expected.map { IPAddress.v4($0) }, "\(candidate)")
            }
        }
        // The draw reaches valid addresses too, not only refusals.
        #expect(accepted > 200)
    }

    @Test(arguments: ["fd00::1", "2001:db8::", "::", "::ffff:10.0.0.1", "fd00:10:96::a"])
    func ipv6StillParsesThroughInetPton(text: String) throws {
        let address = try #require(Self.parsed(text))
        #expect(address.isIPv6)
        #expect(IPAddress(address.description) == address)
    }
}
