import DNSWire
import NIOCore
import Testing

@Suite("Encode then decode")
struct RoundTripTests {
    static let ednsVariants: [EDNS?] = [
        nil,
        EDNS(),
        EDNS(udpPayloadSize: 4096, version: 0, dnssecOK: true),
        EDNS(udpPayloadSize: 512, extendedResponseCode: 1, version: 1, dnssecOK: false, options: [
            EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8]),  // COOKIE (client part)
            EDNSOption(code: 12, data: []),  // PADDING, empty
            EDNSOption(code: 65001, data: Array(repeating: 0xab, count: 40)),
        ]),
    ]

    @Test("every record kind survives in the answer section, with and without EDNS", arguments: everyRecordKind, ednsVariants)
    func recordRoundTrips(record: ResourceRecord, edns: EDNS?) throws {
        let message = DNSMessage(
            header: responseHeader(),
            questions: [DNSQuestion(name: record.name, type: record.type)],
            answers: [record],
            edns: edns)
        let decoded = try DNSMessageDecoder.decode(bytes: DNSMessageEncoder.encode(message))
        #expect(decoded == message)
        #expect(decoded.answers.first?.description == record.description)
    }

    @Test("a response with records in all three sections and EDNS comes back equal", arguments: ednsVariants)
    func fullResponseRoundTrips(edns: EDNS?) throws {
        let message = DNSMessage(
            header: responseHeader(id: 7),
            questions: [DNSQuestion(name: name("web.shop.svc.cluster.local"), type: .any)],
            answers: Array(everyRecordKind.prefix(4)),
            authority: [everyRecordKind[5]],
            additional: Array(everyRecordKind.suffix(5)),
            edns: edns)
        let bytes = DNSMessageEncoder.encode(message)
        let decoded = try DNSMessageDecoder.decode(bytes: bytes)
        #expect(decoded == message)
        #expect(decoded.responseCode == message.responseCode)
        // Encoding the decoded message again is byte-for-byte stable.
        #expect(DNSMessageEncoder.encode(decoded) == bytes)
    }

    @Test(
        "record data prints in presentation form",
        arguments: [
            (RecordData.a(ipv4(10, 96, 0, 10)), "10.96.0.10"),
            (.a(0), "0.0.0.0"),
            (.a(.max), "255.255.255.255"),
            (.aaaa(high: 0, low: 1), "::1"),
            (.aaaa(high: 0, low: 0), "::"),
            (.aaaa(high: 0xfd00_0000_0000_0000, low: 0xa), "fd00::a"),
            (.aaaa(high: 0x2001_0db8_0000_0001, low: 0x0000_0000_0000_0001), "2001:db8:0:1::1"),
            (.aaaa(high: 0x2001_0db8_0000_0000, low: 0x0000_0001_0000_0000), "2001:db8::1:0:0"),
            (.aaaa(high: 0x2001_0db8_0001_0001, low: 0x0001_0001_0001_0000), "2001:db8:1:1:1:1:1:0"),
            (.aaaa(high: 0, low: 0x0000_ffff_0a00_0001), "::ffff:10.0.0.1"),
            (.ns(name("ns.dns.cluster.local")), "ns.dns.cluster.local."),
            (.srv(priority: 0, weight: 100, port: 53, target: name("kube-dns.kube-system.svc.cluster.local")), "0 100 53 kube-dns.kube-system.svc.cluster.local."),
            (.txt([Array("a \"q\" \\".utf8), [0x00, 0x7f], []]), #""a \"q\" \\" "\000\127" """#),
            (.hinfo(cpu: Array("x86_64".utf8), os: Array("Linux".utf8)), #""x86_64" "Linux""#),
            (.unknown(type: RecordType(65280), data: [0x01, 0xab]), ##"\# 2 01ab"##),
            (.unknown(type: RecordType(65280), data: []), ##"\# 0"##),
        ])
    func presentation(data: RecordData, expected: String) {
        #expect(data.presentation == expected)
    }

    @Test("a record's class and TTL extremes survive")
    func classAndTTLSurvive() throws {
        let record = ResourceRecord(name: name("version.bind"), class: .chaos, ttl: .max, data: .txt([Array("ClusterDNS".utf8)]))
        let message = DNSMessage(header: responseHeader(), questions: [DNSQuestion(name: record.name, type: .txt, class: .chaos)], answers: [record])
        #expect(try DNSMessageDecoder.decode(bytes: DNSMessageEncoder.encode(message)) == message)
    }

    @Test("a query with no records and only a question comes back equal")
    func queryRoundTrips() throws {
        let query = DNSMessage.query(id: 0xffff, name: name("kubernetes.default.svc.cluster.local"), type: .aaaa, edns: EDNS(udpPayloadSize: 1232, dnssecOK: true))
        let bytes = DNSMessageEncoder.encode(query)
        #expect(bytes.count == 12 + query.questions[0].name.wire.count + 4 + 11)
        #expect(try DNSMessageDecoder.decode(bytes: bytes) == query)
        #expect(try DNSMessageDecoder.decodeHeader(ByteBuffer(bytes: bytes)) == query.header)
    }

    @Test("an empty message is exactly a 12-byte header")
    func emptyMessage() throws {
        let bytes = DNSMessageEncoder.encode(DNSMessage(header: DNSHeader(id: 0x0102, flags: 0x8180)))
        #expect(bytes == [0x01, 0x02, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try DNSMessageDecoder.decode(bytes: bytes).header == DNSHeader(id: 0x0102, flags: 0x8180))
    }

    @Test(
        "each header flag is on the wire at its RFC 1035 bit and survives decoding",
        arguments: [
            (\DNSHeader.isResponse, UInt16(0x8000)),
            (\DNSHeader.isAuthoritative, 0x0400),
            (\DNSHeader.isTruncated, 0x0200),
            (\DNSHeader.recursionDesired, 0x0100),
            (\DNSHeader.recursionAvailable, 0x0080),
            (\DNSHeader.authenticData, 0x0020),
            (\DNSHeader.checkingDisabled, 0x0010),
        ] as [(WritableKeyPath<DNSHeader, Bool> & Sendable, UInt16)])
    func headerFlag(flag: WritableKeyPath<DNSHeader, Bool> & Sendable, bit: UInt16) throws {
        var header = DNSHeader(id: 1)
        header[keyPath: flag] = true
        #expect(header.flags == bit)
        let bytes = DNSMessageEncoder.encode(DNSMessage(header: header))
        #expect(UInt16(bytes[2]) << 8 | UInt16(bytes[3]) == bit)
        let decoded = try DNSMessageDecoder.decode(bytes: bytes).header
        #expect(decoded[keyPath: flag])
        header[keyPath: flag] = false
        #expect(header.flags == 0)
    }

    @Test("opcode and response code occupy their own bits", arguments: [Opcode.query, .status, .notify, .update], [ResponseCode.noError, .formatError, .serverFailure, .nameError, .notImplemented, .refused])
    func opcodeAndResponseCode(opcode: Opcode, rcode: ResponseCode) throws {
        var header = responseHeader()
        header.opcode = opcode
        header.responseCode = rcode
        let decoded = try DNSMessageDecoder.decode(bytes: DNSMessageEncoder.encode(DNSMessage(header: header)))
        #expect(decoded.header.opcode == opcode)
        #expect(decoded.header.responseCode == rcode)
        #expect(decoded.responseCode == rcode)
        #expect(decoded.header.isResponse && decoded.header.isAuthoritative && decoded.header.recursionDesired && decoded.header.recursionAvailable)
    }

    @Test("BADVERS travels as extended bits in the OPT record with zero in the header")
    func extendedResponseCode() throws {
        var header = responseHeader()
        header.responseCode = ResponseCode(rawValue: ResponseCode.badVersion.rawValue & 0x0f)
        let message = DNSMessage(header: header, edns: EDNS(extendedResponseCode: ResponseCode.badVersion.rawValue >> 4))
        let decoded = try DNSMessageDecoder.decode(bytes: DNSMessageEncoder.encode(message))
        #expect(decoded.header.responseCode == .noError)
        #expect(decoded.responseCode == .badVersion)
    }

    @Test("EDNS fields are written where RFC 6891 puts them")
    func ednsWireLayout() {
        let edns = EDNS(udpPayloadSize: 4096, extendedResponseCode: 1, version: 2, dnssecOK: true, options: [EDNSOption(code: 10, data: [9, 8])])
        let bytes = DNSMessageEncoder.encode(DNSMessage(header: DNSHeader(id: 1), edns: edns))
        #expect(bytes.count == 12 + edns.encodedSize)
        #expect(Array(bytes[10..<12]) == [0, 1])  // ARCOUNT counts the OPT record
        #expect(Array(bytes[12...]) == [0, 0, 41, 0x10, 0x00, 1, 2, 0x80, 0x00, 0, 6, 0, 10, 0, 2, 9, 8])
    }

    @Test("decoding honours the buffer's reader index")
    func decodesFromReaderIndex() throws {
        let message = DNSMessage.query(id: 9, name: name("a.b"), type: .a)
        var buffer = ByteBuffer(bytes: [0xde, 0xad])
        DNSMessageEncoder.encode(message, into: &buffer)
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(try DNSMessageDecoder.decode(buffer) == message)
    }

    @Test("encoding after existing bytes in a buffer keeps compression offsets relative to the message")
    func encodesAfterPrefix() throws {
        let message = DNSMessage(header: responseHeader(), questions: [DNSQuestion(name: name("web.cluster.local"), type: .a)], answers: [everyRecordKind[0]])
        var buffer = ByteBuffer(bytes: [0, 0])  // room for a TCP length prefix
        DNSMessageEncoder.encode(message, into: &buffer)
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(Array(buffer.readableBytesView) == DNSMessageEncoder.encode(message))
        #expect(try DNSMessageDecoder.decode(buffer) == message)
    }
}
