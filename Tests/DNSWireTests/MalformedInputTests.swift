import DNSWire
import NIOCore
import Testing

/// Each hand-built bad message must be refused with one specific error code, never a crash.
@Suite("Malformed input")
struct MalformedInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        let bytes: [UInt8]
        let code: DNSWireError.Code
        var testDescription: String { label }
    }

    static let aRecordAnswer: [UInt8] = [0xc0, 12] + Wire.recordTail(.a, rdlength: 4) + [10, 0, 0, 1]
    static let question: [UInt8] = Wire.example + Wire.questionTail()

    static let cases: [Case] = [
        Case(label: "no bytes at all", bytes: [], code: .truncatedHeader),
        Case(label: "one byte", bytes: [0x12], code: .truncatedHeader),
        Case(label: "11 bytes", bytes: Array(Wire.header(qd: 1).prefix(11)), code: .truncatedHeader),
        Case(label: "question count with no question", bytes: Wire.header(qd: 1), code: .truncatedMessage),
        Case(label: "question name running off the end mid-label", bytes: Wire.header(qd: 1) + [7] + Array("exa".utf8), code: .truncatedMessage),
        Case(label: "question name with no terminating root label", bytes: Wire.header(qd: 1) + [7] + Array("example".utf8), code: .truncatedMessage),
        Case(label: "question without type and class", bytes: Wire.header(qd: 1) + Wire.example + [0, 1], code: .truncatedMessage),
        // A length byte of 64 or more has a label-type bit set, so on the wire a 64-byte label is label type 0x40.
        Case(label: "label length 64", bytes: Wire.header(qd: 1) + [64] + label(64) + [0] + Wire.questionTail(), code: .badLabelType),
        Case(label: "label type 0x40 (extended label)", bytes: Wire.header(qd: 1) + [0x41, 0x00] + Wire.questionTail(), code: .badLabelType),
        Case(label: "label type 0x80", bytes: Wire.header(qd: 1) + [0x80, 0x00] + Wire.questionTail(), code: .badLabelType),
        // The id's first byte, 0x41, is what the owner's pointer lands on.
        Case(label: "label type 0x40 behind a pointer", bytes: Wire.header(id: 0x4100, an: 1) + [0xc0, 0] + Wire.recordTail(.a, rdlength: 4) + [1, 2, 3, 4], code: .badLabelType),
        Case(label: "name of five 63-byte labels", bytes: Wire.header(qd: 1) + (0..<5).flatMap { _ in [63] + label(63) } + [0] + Wire.questionTail(), code: .nameTooLong),
        Case(label: "name of 256 bytes", bytes: Wire.header(qd: 1) + (0..<3).flatMap { _ in [63] + label(63) } + [62] + label(62) + [0] + Wire.questionTail(), code: .nameTooLong),
        Case(
            label: "name over 255 bytes assembled through a pointer",
            bytes: Wire.header(qd: 2) + (0..<3).flatMap { _ in [63] + label(63) } + [0] + Wire.questionTail() + [63] + label(63) + [0xc0, 12] + Wire.questionTail(),
            code: .nameTooLong),
        Case(label: "pointer to itself (C0 0C at offset 12)", bytes: Wire.header(qd: 1) + [0xc0, 0x0c] + Wire.questionTail(), code: .badPointer),
        Case(label: "forward pointer", bytes: Wire.header(qd: 1) + [0xc0, 18] + Wire.questionTail() + Wire.example, code: .badPointer),
        Case(label: "pointer past the end of the message", bytes: Wire.header(qd: 1) + [0xff, 0xff] + Wire.questionTail(), code: .badPointer),
        Case(label: "pointer into the name it belongs to", bytes: Wire.header(qd: 1) + [1, 0x61, 0xc0, 12] + Wire.questionTail(), code: .badPointer),
        // 12 → 0 is backwards, but at 0 the id spells label "a" and the flags spell a pointer back to 12: a loop.
        Case(label: "pointer chain that would loop through the header", bytes: Wire.header(id: 0x0161, flags: 0xc00c, qd: 1) + [0xc0, 0x00] + Wire.questionTail(), code: .badPointer),
        // Opaque RDATA (unknown type) at 25 holds label "b" and a pointer to 29; the owner at 29 points
        // back to 25, so following the chain would go 29 → 25 → 29 forever.
        Case(
            label: "pointer chain that would loop through opaque record data",
            bytes: Wire.header(an: 2) + [1, 0x61, 0] + Wire.recordTail(RecordType(999), rdlength: 4) + [1, 0x62, 0xc0, 29] + [0xc0, 25] + Wire.recordTail(.a, rdlength: 4) + [1, 2, 3, 4],
            code: .badPointer),
        Case(label: "pointer cut in half", bytes: Wire.header(qd: 1) + [0xc0], code: .truncatedMessage),
        Case(label: "A record with RDLENGTH 5", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12] + Wire.recordTail(.a, rdlength: 5) + [10, 0, 0, 1, 9], code: .badRecord),
        Case(label: "A record with RDLENGTH 3", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12] + Wire.recordTail(.a, rdlength: 3) + [10, 0, 0], code: .badRecord),
        Case(label: "AAAA record with RDLENGTH 4", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12] + Wire.recordTail(.aaaa, rdlength: 4) + [10, 0, 0, 1], code: .badRecord),
        Case(label: "CNAME whose name is shorter than its RDLENGTH", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12] + Wire.recordTail(.cname, rdlength: 3) + [0xc0, 12, 0], code: .badRecord),
        Case(label: "CNAME whose name is longer than its RDLENGTH", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12] + Wire.recordTail(.cname, rdlength: 1) + [1, 0x61, 0], code: .badRecord),
        Case(label: "TXT string longer than the record data", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12] + Wire.recordTail(.txt, rdlength: 3) + [5, 0x61, 0x62] + Wire.opt, code: .badRecord),
        Case(label: "SOA data cut short", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12] + Wire.recordTail(.soa, rdlength: 8) + [0xc0, 12, 0xc0, 12, 0, 0, 0, 1], code: .truncatedMessage),
        Case(label: "RDATA length past the end of the message", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12] + Wire.recordTail(.a, rdlength: 4) + [10, 0], code: .truncatedMessage),
        Case(label: "unknown-type RDATA length past the end", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12] + Wire.recordTail(RecordType(999), rdlength: 200) + [1, 2, 3], code: .truncatedMessage),
        Case(label: "record header cut short", bytes: Wire.header(qd: 1, an: 1) + question + [0xc0, 12, 0, 1, 0, 1, 0], code: .truncatedMessage),
        Case(label: "more answers counted than present", bytes: Wire.header(qd: 1, an: 2) + question + aRecordAnswer, code: .truncatedMessage),
        Case(label: "one trailing byte", bytes: Wire.header(qd: 1) + question + [0], code: .trailingBytes),
        Case(label: "a whole record not counted", bytes: Wire.header(qd: 1) + question + aRecordAnswer, code: .trailingBytes),
        Case(label: "two OPT records", bytes: Wire.header(qd: 1, ar: 2) + question + Wire.opt + Wire.opt, code: .badEDNS),
        Case(label: "OPT with a non-root owner", bytes: Wire.header(qd: 1, ar: 1) + question + [0xc0, 12] + Array(Wire.opt.dropFirst()), code: .badEDNS),
        Case(
            label: "EDNS option longer than the OPT data",
            bytes: Wire.header(qd: 1, ar: 1) + question + [0] + Wire.u16(41) + Wire.u16(1232) + [0, 0, 0, 0] + Wire.u16(6) + Wire.u16(10) + Wire.u16(8) + [1, 2],
            code: .badEDNS),
        Case(
            label: "OPT data with a dangling half option",
            bytes: Wire.header(qd: 1, ar: 1) + question + [0] + Wire.u16(41) + Wire.u16(1232) + [0, 0, 0, 0] + Wire.u16(3) + [0, 10, 0] + Wire.u16(0),
            code: .badEDNS),
        Case(label: "OPT data past the end of the message", bytes: Wire.header(qd: 1, ar: 1) + question + [0] + Wire.u16(41) + Wire.u16(1232) + [0, 0, 0, 0] + Wire.u16(10) + [0, 10], code: .truncatedMessage),
    ]

    @Test("a malformed message is refused with its specific error code", arguments: cases)
    func refusesMalformed(_ badCase: Case) {
        #expect(throws: DNSWireError(badCase.code, "")) { try DNSMessageDecoder.decode(bytes: badCase.bytes) }
    }

    @Test("the hand-built pieces are themselves valid, so each case fails only for its one defect")
    func baselineIsValid() throws {
        let query = try DNSMessageDecoder.decode(bytes: Wire.header(qd: 1) + Self.question)
        #expect(query.questions == [DNSQuestion(name: name("example"), type: .a)])
        let response = try DNSMessageDecoder.decode(bytes: Wire.header(qd: 1, an: 1, ar: 1) + Self.question + Self.aRecordAnswer + Wire.opt)
        #expect(response.answers == [ResourceRecord(name: name("example"), ttl: 60, data: .a(ipv4(10, 0, 0, 1)))])
        #expect(response.edns == EDNS(udpPayloadSize: 1232))
        // A pointer into the header is backwards and legal when the bytes there happen to form a name.
        let headerName = try DNSMessageDecoder.decode(bytes: Wire.header(id: 0x0161, flags: 0x0000, qd: 1) + [0xc0, 0x00] + Wire.questionTail())
        #expect(headerName.questions[0].name == name("a"))
        // The longest legal name, 255 bytes, decodes.
        let longest = try DNSName(labels: [label(63), label(63), label(63), label(61)])
        let longQuery = try DNSMessageDecoder.decode(bytes: Wire.header(qd: 1) + longest.wire + Wire.questionTail())
        #expect(longQuery.questions[0].name == longest)
    }

    @Test("an OPT record in the answer section is just an unknown record, not EDNS")
    func optOutsideAdditionalIsOpaque() throws {
        let message = try DNSMessageDecoder.decode(bytes: Wire.header(qd: 1, an: 1) + Self.question + Wire.opt)
        #expect(message.edns == nil)
        #expect(message.answers.first?.data == .unknown(type: .opt, data: []))
    }

    @Test("decodeHeader needs only 12 bytes and refuses fewer", arguments: [0, 5, 11])
    func decodeHeaderNeedsTwelveBytes(count: Int) throws {
        let header = Wire.header(id: 0xabcd, flags: 0x8180, qd: 9)
        #expect(throws: DNSWireError(.truncatedHeader, "")) { try DNSMessageDecoder.decodeHeader(ByteBuffer(bytes: header.prefix(count))) }
        #expect(try DNSMessageDecoder.decodeHeader(ByteBuffer(bytes: header)) == DNSHeader(id: 0xabcd, flags: 0x8180))
    }
}
