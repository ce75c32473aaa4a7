import DNSWire
import Testing

@Suite("DNSName")
struct DNSNameTests {
    @Test(
        "presentation form parses to the expected labels",
        arguments: [
            ("web.shop.svc.cluster.local", ["web", "shop", "svc", "cluster", "local"]),
            ("web.shop.svc.cluster.local.", ["web", "shop", "svc", "cluster", "local"]),
            ("KuBe.Cluster.Local", ["KuBe", "Cluster", "Local"]),
            ("a\\.b.c", ["a.b", "c"]),
            ("\\065bc.d", ["Abc", "d"]),
            ("back\\\\slash", ["back\\slash"]),
            ("sp\\032ace", ["sp ace"]),
            ("\\$dollar.\\@at", ["$dollar", "@at"]),
            ("_http._tcp.web", ["_http", "_tcp", "web"]),
        ])
    func parsesPresentationForm(text: String, expected: [String]) throws {
        let parsed = try DNSName(text)
        #expect(parsed.labels.map { String(decoding: $0, as: UTF8.self) } == expected)
        #expect(parsed.labelCount == expected.count)
        #expect(parsed.wire.last == 0)
    }

    @Test("a decimal escape can produce any byte, including zero and 255")
    func decimalEscapesCoverEveryByte() throws {
        let parsed = try DNSName("\\000\\255\\046")
        #expect(parsed.wire == [3, 0, 255, 0x2e, 0])
    }

    @Test("the root is spelled `.` or the empty string and has no labels", arguments: [".", ""])
    func rootParses(text: String) throws {
        let root = try DNSName(text)
        #expect(root == .root)
        #expect(root.isRoot)
        #expect(root.wire == [0])
        #expect(root.labels.isEmpty)
        #expect(root.description == ".")
    }

    @Test(
        "malformed presentation forms are rejected with badName",
        arguments: ["a..b", ".a", "..", "a\\", "\\256.b", "a.b..", "\\999"])
    func rejectsMalformedText(text: String) {
        #expect(throws: DNSWireError(.badName, "")) { try DNSName(text) }
    }

    @Test("a label of 63 bytes is accepted and one of 64 is rejected")
    func labelLengthLimit() throws {
        let longest = String(repeating: "a", count: 63)
        let parsed = try DNSName("\(longest).local")
        #expect(parsed.labels.first?.count == 63)
        #expect(throws: DNSWireError(.labelTooLong, "")) { try DNSName("\(longest)a.local") }
        #expect(throws: DNSWireError(.labelTooLong, "")) { try DNSName(labels: [label(64)]) }
        #expect(throws: DNSWireError(.labelTooLong, "")) { try DNSName.root.prepending(label(64)) }
    }

    @Test("an empty label is a bad name, not a long one")
    func emptyLabel() {
        #expect(throws: DNSWireError(.badName, "")) { try DNSName(labels: [Array("a".utf8), []]) }
        #expect(throws: DNSWireError(.badName, "")) { try name("cluster.local").prepending("") }
    }

    @Test("a name of 255 wire bytes is accepted and one of 256 is rejected")
    func nameLengthLimit() throws {
        // 3 × (1 + 63) + (1 + 61) + 1 = 255.
        let longest = try DNSName(labels: [label(63), label(63), label(63), label(61)])
        #expect(longest.wire.count == DNSName.maxLength)
        #expect(throws: DNSWireError(.nameTooLong, "")) { try DNSName(labels: [label(63), label(63), label(63), label(62)]) }
        let text = [label(63), label(63), label(63), label(62)].map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
        #expect(throws: DNSWireError(.nameTooLong, "")) { try DNSName(text) }
        let nearly = try DNSName(labels: [label(63), label(63), label(63), label(59)])
        #expect(throws: DNSWireError(.nameTooLong, "")) { try nearly.prepending("ab") }
        #expect(throws: DNSWireError(.nameTooLong, "")) { try DNSName(labels: [label(63), label(63)]).appending(DNSName(labels: [label(63), label(63)])) }
        #expect(try nearly.prepending("a").wire.count == DNSName.maxLength)
    }

    @Test("equality of bytes is exact; equality of names ignores ASCII case only")
    func caseInsensitiveEquality() throws {
        let mixed = name("KuBe.Cluster.LOCAL")
        let lower = name("kube.cluster.local")
        #expect(mixed != lower)
        #expect(mixed.equalsIgnoringCase(lower))
        #expect(lower.equalsIgnoringCase(mixed))
        #expect(mixed.lowercased() == lower)
        #expect(!name("kube.cluster.locals").equalsIgnoringCase(lower))
        // Only A-Z fold: '@' (0x40) and '`' (0x60), '[' (0x5b) and '{' (0x7b) differ by the case bit.
        #expect(!name("\\@").equalsIgnoringCase(name("`")))
        #expect(!name("[").equalsIgnoringCase(name("{")))
        #expect(try !DNSName(labels: [[0xc4]]).equalsIgnoringCase(DNSName(labels: [[0xe4]])))
        #expect(name("\\@").lowercased() == name("\\@"))
    }

    @Test(
        "isSubdomain holds for the zone itself and names below it, case-insensitively",
        arguments: [
            ("cluster.local", "cluster.local", true),
            ("web.shop.svc.cluster.local", "cluster.local", true),
            ("WEB.Shop.svc.CLUSTER.local", "cluster.local", true),
            ("web.shop.svc.cluster.local", "svc.cluster.local", true),
            ("anything.at.all", ".", true),
            (".", ".", true),
            ("cluster.local", "web.cluster.local", false),
            ("xcluster.local", "cluster.local", false),
            ("cluster.locals", "cluster.local", false),
            ("local", "cluster.local", false),
            (".", "cluster.local", false),
        ])
    func isSubdomain(child: String, zone: String, expected: Bool) {
        #expect(name(child).isSubdomain(of: name(zone)) == expected)
    }

    @Test("dropping, prepending and appending work on labels")
    func labelEditing() throws {
        let web = name("web.shop.svc.cluster.local")
        #expect(web.dropping(1) == name("shop.svc.cluster.local"))
        #expect(web.dropping(0) == web)
        #expect(web.dropping(5) == .root)
        #expect(web.dropping(9) == .root)
        #expect(try name("svc.cluster.local").prepending("shop") == name("shop.svc.cluster.local"))
        #expect(try name("web.shop").appending(name("svc.cluster.local")) == web)
        #expect(try DNSName.root.appending(web) == web)
        #expect(try web.appending(.root) == web)
    }

    @Test(
        "description escapes special and non-printable bytes as dig does",
        arguments: [
            ([Array("web".utf8), Array("local".utf8)], "web.local."),
            ([Array("a.b".utf8)], "a\\.b."),
            ([Array("back\\slash".utf8)], "back\\\\slash."),
            ([Array("q\"t;(p)@$".utf8)], "q\\\"t\\;\\(p\\)\\@\\$."),
            ([Array("sp ace".utf8)], "sp\\032ace."),
            ([[0x00, 0x7f, 0xff]], "\\000\\127\\255."),
            ([Array("KuBe".utf8)], "KuBe."),
        ])
    func descriptionEscapes(labels: [[UInt8]], expected: String) throws {
        let parsed = try DNSName(labels: labels)
        #expect(parsed.description == expected)
        // The description parses back to the same bytes.
        #expect(try DNSName(parsed.description) == parsed)
    }
}
