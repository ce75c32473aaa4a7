import DNSWire
import LDNSTestSupport
import NIOCore
import Testing

@Suite("Truncation")
struct TruncationTests {
    static let owner = name("big.shop.svc.cluster.local")

    static func records(_ count: Int) -> [ResourceRecord] {
        (0..<count).map { ResourceRecord(name: owner, ttl: 30, data: .a(ipv4(10, 0, UInt32($0 >> 8), UInt32($0 & 0xff)))) }
    }

    static func response(answers: Int, additional: Int = 0, edns: EDNS? = nil) -> DNSMessage {
        DNSMessage(
            header: responseHeader(),
            questions: [DNSQuestion(name: owner, type: .a)],
            answers: records(answers),
            additional: (0..<additional).map { ResourceRecord(name: try! owner.prepending("extra\($0)"), ttl: 30, data: .a(ipv4(10, 9, 0, UInt32($0)))) },
            edns: edns)
    }

    /// Header, question, and each compressed A record: a 2-byte owner pointer, 10 fixed bytes, 4 of address.
    static let fixedPart = 12 + owner.wire.count + 4
    static let aRecordSize = 2 + 10 + 4

    /// RFC 2181 §9: no part of an RRset is sent. A large answer over UDP (73 records of one
    /// headless Service in 1232 bytes, before) becomes a minimal TC response: the question only.
    @Test("an RRset that does not fit whole is left out: TC and the question only", arguments: [512, 513, 600, 1000, 1232])
    func rrsetThatDoesNotFitIsLeftOut(maxSize: Int) throws {
        let message = Self.response(answers: 100)
        var buffer = ByteBuffer()
        let truncated = DNSMessageEncoder.encode(message, into: &buffer, maxSize: maxSize)
        let bytes = Array(buffer.readableBytesView)
        #expect(truncated)
        #expect(bytes.count == Self.fixedPart)
        let decoded = try DNSMessageDecoder.decode(bytes: bytes)
        #expect(decoded.header.isTruncated)
        #expect(decoded.answers.isEmpty && decoded.authority.isEmpty && decoded.additional.isEmpty)
        #expect(decoded.questions == message.questions)
        // Apart from TC, the header is the one we asked for.
        #expect(decoded.header.flags & ~0x0200 == message.header.flags)
    }

    @Test("the RRsets before the one that does not fit are sent whole")
    func earlierRRsetsAreKept() throws {
        var message = Self.response(answers: 100)
        let alias = ResourceRecord(name: name("alias.shop.svc.cluster.local"), ttl: 30, data: .cname(Self.owner))
        message.questions = [DNSQuestion(name: alias.name, type: .a)]
        message.answers.insert(alias, at: 0)
        let decoded = try DNSMessageDecoder.decode(bytes: DNSMessageEncoder.encode(message, maxSize: 512))
        #expect(decoded.header.isTruncated)
        #expect(decoded.answers == [alias])
    }

    @Test("a message that fits exactly is not truncated; one byte less leaves out the whole RRset")
    func exactFitBoundary() throws {
        let message = Self.response(answers: 10)
        let full = DNSMessageEncoder.encode(message)
        var buffer = ByteBuffer()
        #expect(!DNSMessageEncoder.encode(message, into: &buffer, maxSize: full.count))
        #expect(Array(buffer.readableBytesView) == full)

        let short = DNSMessageEncoder.encode(message, maxSize: full.count - 1)
        #expect(short.count == Self.fixedPart)
        let decoded = try DNSMessageDecoder.decode(bytes: short)
        #expect(decoded.header.isTruncated)
        #expect(decoded.answers.isEmpty)
    }

    @Test("additional records that do not fit are dropped without setting TC")
    func additionalDroppedWithoutTC() throws {
        let message = Self.response(answers: 5, additional: 100)
        var buffer = ByteBuffer()
        let truncated = DNSMessageEncoder.encode(message, into: &buffer, maxSize: 512)
        let bytes = Array(buffer.readableBytesView)
        #expect(!truncated)
        #expect(bytes.count <= 512)
        let decoded = try DNSMessageDecoder.decode(bytes: bytes)
        #expect(!decoded.header.isTruncated)
        #expect(decoded.answers == message.answers)
        #expect(!decoded.additional.isEmpty)
        #expect(decoded.additional.count < 100)
        #expect(decoded.additional == Array(message.additional.prefix(decoded.additional.count)))
        #expect(Int(bytes[10]) << 8 | Int(bytes[11]) == decoded.additional.count)
    }

    @Test("an authority RRset that does not fit sets TC and drops it and the additional section")
    func authorityCutSetsTC() throws {
        var message = Self.response(answers: 1, additional: 3)
        message.authority = Self.records(100)
        let decoded = try DNSMessageDecoder.decode(bytes: DNSMessageEncoder.encode(message, maxSize: 512))
        #expect(decoded.header.isTruncated)
        #expect(decoded.answers == message.answers)
        #expect(decoded.authority.isEmpty)
        #expect(decoded.additional.isEmpty)
    }

    @Test(
        "the OPT record always survives truncation, with its options intact",
        arguments: [
            EDNS(udpPayloadSize: 512),
            EDNS(udpPayloadSize: 1232, dnssecOK: true, options: [EDNSOption(code: 10, data: Array(repeating: 7, count: 24))]),
        ])
    func optSurvivesTruncation(edns: EDNS) throws {
        for (answers, additional) in [(100, 0), (5, 100), (0, 0)] {
            let message = Self.response(answers: answers, additional: additional, edns: edns)
            let bytes = DNSMessageEncoder.encode(message, maxSize: 512)
            #expect(bytes.count <= 512)
            let decoded = try DNSMessageDecoder.decode(bytes: bytes)
            #expect(decoded.edns == edns)
            #expect(decoded.header.isTruncated == (answers == 100))
            #expect(bytes.suffix(edns.encodedSize).first == 0)  // OPT is the last record, owner root
            if answers == 100 {
                #expect(bytes.count == Self.fixedPart + edns.encodedSize)
            }
        }
    }

    @Test("when not even the first answer fits, the question and TC are still sent")
    func nothingFits() throws {
        let message = Self.response(answers: 3, edns: EDNS())
        let bytes = DNSMessageEncoder.encode(message, maxSize: Self.fixedPart + EDNS().encodedSize + Self.aRecordSize - 1)
        let decoded = try DNSMessageDecoder.decode(bytes: bytes)
        #expect(decoded.header.isTruncated)
        #expect(decoded.answers.isEmpty)
        #expect(decoded.questions == message.questions)
        #expect(decoded.edns == EDNS())
    }

    @Test("the default size limit keeps a message within 65,535 bytes, the most TCP can frame")
    func defaultLimitIsTCPMaximum() throws {
        let message = Self.response(answers: 5000)
        var buffer = ByteBuffer()
        #expect(DNSMessageEncoder.encode(message, into: &buffer))
        #expect(buffer.readableBytes <= 65535)
        let decoded = try DNSMessageDecoder.decode(buffer)
        #expect(decoded.answers.isEmpty)
        #expect(decoded.header.isTruncated)
    }

    @Test("a truncated message is accepted by libldns with TC and the same counts")
    func truncatedMessageIsValidForLDNS() throws {
        let bytes = DNSMessageEncoder.encode(Self.response(answers: 100, edns: EDNS()), maxSize: 512)
        let decoded = try DNSMessageDecoder.decode(bytes: bytes)
        let parsed = try LDNSPacket(wire: bytes)
        #expect(parsed.isTruncated)
        #expect(parsed.answers.count == decoded.answers.count)
        #expect(parsed.ednsUDPSize == 1232)
    }
}
