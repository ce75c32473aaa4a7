import DNSWire
import LDNSTestSupport
import Testing

/// libldns is an independent implementation: bytes we write must parse there to the same thing, and
/// queries it writes must parse here.
@Suite("Agreement with libldns")
struct LDNSAgreementTests {
    static func compare(_ message: DNSMessage, maxSize: Int = 65535) throws {
        let bytes = DNSMessageEncoder.encode(message, maxSize: maxSize)
        let ours = try DNSMessageDecoder.decode(bytes: bytes)
        let parsed = try LDNSPacket(wire: bytes)
        #expect(parsed.id == ours.header.id)
        #expect(parsed.responseCode == ours.header.responseCode.rawValue)
        #expect(parsed.isResponse == ours.header.isResponse)
        #expect(parsed.isAuthoritative == ours.header.isAuthoritative)
        #expect(parsed.isTruncated == ours.header.isTruncated)
        #expect(parsed.recursionDesired == ours.header.recursionDesired)
        #expect(parsed.ednsUDPSize == ours.edns?.udpPayloadSize)
        #expect(parsed.questions.count == ours.questions.count)
        #expect(parsed.questions == ours.questions.map { normalizeWhitespace($0.description) })
        #expect(parsed.answers == ours.answers.map(ldnsText))
        #expect(parsed.authority == ours.authority.map(ldnsText))
        #expect(parsed.additional == ours.additional.map(ldnsText))
    }

    /// Our record text, adjusted only where ldns legitimately prints differently.
    static func ldnsText(_ record: ResourceRecord) -> String {
        // ldns prints AAAA with inet_ntop, which writes the deprecated IPv4-compatible form
        // (::/96 with a non-zero seventh group, RFC 4291 §2.5.5.1) as `::a.b.c.d`. RFC 5952 asks for
        // dotted quads only for IPv4-mapped and similar well-known prefixes, so we print `::a00:1`.
        if case .aaaa(0, let low) = record.data, low >> 32 == 0, low >> 16 != 0 {
            let quad = "\(low >> 24 & 0xff).\(low >> 16 & 0xff).\(low >> 8 & 0xff).\(low & 0xff)"
            return normalizeWhitespace("\(record.name)\t\(record.ttl)\t\(record.class)\tAAAA\t::\(quad)")
        }
        return normalizeWhitespace(record.description)
    }

    @Test("each record kind we encode parses in libldns to the same text", arguments: everyRecordKind)
    func recordAgrees(record: ResourceRecord) throws {
        try Self.compare(DNSMessage(header: responseHeader(), questions: [DNSQuestion(name: record.name, type: record.type)], answers: [record]))
    }

    @Test("a response with all sections, compression, EDNS and mixed case parses in libldns identically")
    func fullResponseAgrees() throws {
        var header = responseHeader(id: 0x4242)
        header.responseCode = .nameError
        try Self.compare(
            DNSMessage(
                header: header,
                questions: [DNSQuestion(name: name("KuBe.cluster.local"), type: .a)],
                answers: [
                    ResourceRecord(name: name("KuBe.cluster.local"), ttl: 5, data: .cname(name("kube.cluster.local"))),
                    ResourceRecord(name: name("kube.cluster.local"), ttl: 5, data: .a(ipv4(10, 0, 0, 1))),
                ] + everyRecordKind,
                authority: [everyRecordKind[5]],
                additional: CompressionTests.manyNamesResponse().additional,
                edns: EDNS(udpPayloadSize: 1232, dnssecOK: true, options: [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])])))
    }

    @Test("a heavily compressed and a truncated response parse in libldns", arguments: [65535, 512, 300])
    func compressedAndTruncatedAgree(maxSize: Int) throws {
        var message = CompressionTests.manyNamesResponse()
        message.edns = EDNS()
        try Self.compare(message, maxSize: maxSize)
    }

    @Test(
        "AAAA addresses print in RFC 5952 form as libldns prints them",
        arguments: [
            (UInt64(0), UInt64(0)),
            (0, 1),
            (0xfd00_0000_0000_0000, 0x0000_0000_0000_000a),
            (0x2001_0db8_0000_0000, 0x0001_0000_0000_0001),
            (0x2001_0db8_0000_0001, 0x0000_0000_0000_0001),
            (0x2001_0db8_0001_0001, 0x0001_0001_0001_0001),
            (0xfe80_0000_0000_0000, 0x0000_0000_0000_0000),
            (0x2001_0db8_0000_0000, 0x0000_0001_0000_0000),
            (0x0000_0000_0000_0000, 0x0000_ffff_0a00_0001),
            (0x0000_0000_0000_0000, 0x0000_0000_0a00_0001),
            (0x0000_0000_0000_0000, 0xffff_0000_0a00_0001),
            (0x2001_0db8_0000_0000, 0x0000_ffff_0a00_0001),
        ])
    func ipv6Agrees(high: UInt64, low: UInt64) throws {
        let record = ResourceRecord(name: name("v6.cluster.local"), ttl: 1, data: .aaaa(high: high, low: low))
        try Self.compare(DNSMessage(header: responseHeader(), answers: [record]))
    }

    @Test(
        "owner names with bytes that need escaping print as libldns prints them",
        arguments: [
            [Array("a.b".utf8), Array("local".utf8)],
            [Array("sp ace".utf8)],
            [[0x00, 0x7f, 0xff]],
            [Array("back\\slash".utf8)],
            [Array("semi;colon(paren)".utf8)],
        ])
    func escapedNamesAgree(labels: [[UInt8]]) throws {
        let record = ResourceRecord(name: try DNSName(labels: labels), ttl: 1, data: .a(ipv4(1, 2, 3, 4)))
        try Self.compare(DNSMessage(header: responseHeader(), answers: [record]))
    }

    @Test(
        "queries libldns builds decode here to the same name, type and id",
        arguments: [
            ("web.shop.svc.cluster.local.", RecordType.a, UInt16(0x1234)),
            ("_http._tcp.web.shop.svc.cluster.local.", .srv, 1),
            ("10.0.96.10.in-addr.arpa.", .ptr, 0xffff),
            ("KuBe.Cluster.LOCAL.", .aaaa, 0),
            ("cluster.local.", .soa, 77),
            ("odd.cluster.local.", RecordType(65280), 9),
            (".", .ns, 3),
        ])
    func ldnsQueriesDecode(text: String, type: RecordType, id: UInt16) throws {
        let wire = try ldnsQueryWire(name: text, type: type.rawValue, id: id)
        let query = try DNSMessageDecoder.decode(bytes: wire)
        #expect(query.header.id == id)
        #expect(!query.header.isResponse)
        #expect(query.header.recursionDesired)
        #expect(query.questions == [DNSQuestion(name: name(text), type: type)])
        #expect(query.questions[0].name.description == text)
        #expect(query.answers.isEmpty && query.authority.isEmpty && query.additional.isEmpty)
        // And back: the query we re-encode is byte-for-byte the one libldns wrote.
        #expect(DNSMessageEncoder.encode(query) == wire)
    }

    @Test("a libldns query without recursion desired decodes with RD clear")
    func ldnsQueryWithoutRD() throws {
        let query = try DNSMessageDecoder.decode(bytes: ldnsQueryWire(name: "web.cluster.local.", type: RecordType.a.rawValue, recursionDesired: false))
        #expect(!query.header.recursionDesired)
        #expect(query.header.id == 0x1234)
    }
}
