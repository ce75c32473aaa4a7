import NIOCore

/// A strict decoder: every read is bounds-checked, compression pointers may only point backwards
/// (each one before the last), labels are at most 63 and names at most 255 bytes, and a message
/// must end exactly where its last record ends.
public enum DNSMessageDecoder {
    /// Most compression hops a name may take; 127 labels is the most a 255-byte name can have.
    static let maxPointerHops = 127

    public static func decode(_ buffer: ByteBuffer) throws(DNSWireError) -> DNSMessage {
        var reader = WireReader(buffer: buffer)
        return try reader.readMessage()
    }

    public static func decode(bytes: [UInt8]) throws(DNSWireError) -> DNSMessage {
        try decode(ByteBuffer(bytes: bytes))
    }

    /// Reads only the 12-byte header: enough to decide whether to answer at all.
    public static func decodeHeader(_ buffer: ByteBuffer) throws(DNSWireError) -> DNSHeader {
        guard buffer.readableBytes >= 12,
            let id = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            let flags = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self)
        else {
            throw DNSWireError(.truncatedHeader, "message of \(buffer.readableBytes) bytes has no complete header")
        }
        return DNSHeader(id: id, flags: flags)
    }
}

/// Random-access reads over one message; offsets are relative to the message start, as
/// compression pointers are.
struct WireReader {
    let buffer: ByteBuffer
    let base: Int
    let count: Int
    var offset = 0

    init(buffer: ByteBuffer) {
        self.buffer = buffer
        self.base = buffer.readerIndex
        self.count = buffer.readableBytes
    }

    func byte(at position: Int) throws(DNSWireError) -> UInt8 {
        guard position >= 0, position < count, let value = buffer.getInteger(at: base + position, as: UInt8.self) else {
            throw DNSWireError(.truncatedMessage, "message ends at byte \(count) while reading byte \(position)")
        }
        return value
    }

    mutating func readUInt8() throws(DNSWireError) -> UInt8 {
        let value = try byte(at: offset)
        offset += 1
        return value
    }

    mutating func readUInt16() throws(DNSWireError) -> UInt16 {
        guard offset + 2 <= count, let value = buffer.getInteger(at: base + offset, as: UInt16.self) else {
            throw DNSWireError(.truncatedMessage, "message ends at byte \(count) while reading a 16-bit field at \(offset)")
        }
        offset += 2
        return value
    }

    mutating func readUInt32() throws(DNSWireError) -> UInt32 {
        guard offset + 4 <= count, let value = buffer.getInteger(at: base + offset, as: UInt32.self) else {
            throw DNSWireError(.truncatedMessage, "message ends at byte \(count) while reading a 32-bit field at \(offset)")
        }
        offset += 4
        return value
    }

    mutating func readBytes(_ length: Int) throws(DNSWireError) -> [UInt8] {
        guard length >= 0, offset + length <= count, let bytes = buffer.getBytes(at: base + offset, length: length) else {
            throw DNSWireError(.truncatedMessage, "message ends at byte \(count) while reading \(length) bytes at \(offset)")
        }
        offset += length
        return bytes
    }

    /// Reads a possibly compressed name at the current offset and moves past it.
    mutating func readName() throws(DNSWireError) -> DNSName {
        var wire: [UInt8] = []
        wire.reserveCapacity(64)
        var position = offset
        var segmentStart = offset
        var resumeAt: Int? = nil
        var hops = 0
        while true {
            let length = try byte(at: position)
            switch length & 0xc0 {
            case 0x00:
                if length == 0 {
                    wire.append(0)
                    offset = resumeAt ?? position + 1
                    return DNSName(uncheckedWire: wire)
                }
                guard position + 1 + Int(length) <= count else {
                    throw DNSWireError(.truncatedMessage, "label at \(position) runs past the end of the message")
                }
                guard wire.count + 1 + Int(length) + 1 <= DNSName.maxLength else {
                    throw DNSWireError(.nameTooLong, "name longer than 255 bytes at \(offset)")
                }
                wire.append(length)
                for index in (position + 1)...(position + Int(length)) {
                    wire.append(try byte(at: index))
                }
                position += 1 + Int(length)
            case 0xc0:
                let low = try byte(at: position + 1)
                let target = Int(length & 0x3f) << 8 | Int(low)
                guard target < segmentStart else {
                    throw DNSWireError(.badPointer, "compression pointer at \(position) to \(target) does not point backwards")
                }
                hops += 1
                guard hops <= DNSMessageDecoder.maxPointerHops else {
                    throw DNSWireError(.badPointer, "more than \(DNSMessageDecoder.maxPointerHops) compression pointers in one name")
                }
                if resumeAt == nil { resumeAt = position + 2 }
                position = target
                segmentStart = target
            default:
                throw DNSWireError(.badLabelType, "label type 0x\(String(length & 0xc0, radix: 16)) at \(position)")
            }
        }
    }

    mutating func readMessage() throws(DNSWireError) -> DNSMessage {
        guard count >= 12 else {
            throw DNSWireError(.truncatedHeader, "message of \(count) bytes has no complete header")
        }
        let id = try readUInt16()
        let flags = try readUInt16()
        let questionCount = try readUInt16()
        let answerCount = try readUInt16()
        let authorityCount = try readUInt16()
        let additionalCount = try readUInt16()

        var message = DNSMessage(header: DNSHeader(id: id, flags: flags))
        for _ in 0..<questionCount {
            let name = try readName()
            let type = RecordType(try readUInt16())
            let dnsClass = DNSClass(rawValue: try readUInt16())
            message.questions.append(DNSQuestion(name: name, type: type, class: dnsClass))
        }
        for _ in 0..<answerCount { message.answers.append(try readRecord()) }
        for _ in 0..<authorityCount { message.authority.append(try readRecord()) }
        for _ in 0..<additionalCount {
            let start = offset
            let name = try readName()
            let type = RecordType(try readUInt16())
            if type == .opt {
                guard message.edns == nil else { throw DNSWireError(.badEDNS, "more than one OPT record") }
                guard name.isRoot else { throw DNSWireError(.badEDNS, "OPT record owner is not the root") }
                message.edns = try readOPTBody()
            } else {
                offset = start
                message.additional.append(try readRecord())
            }
        }
        guard offset == count else {
            throw DNSWireError(.trailingBytes, "\(count - offset) bytes after the last record")
        }
        return message
    }

    mutating func readOPTBody() throws(DNSWireError) -> EDNS {
        let payloadSize = try readUInt16()
        let extended = try readUInt8()
        let version = try readUInt8()
        let flags = try readUInt16()
        let length = Int(try readUInt16())
        let end = offset + length
        guard end <= count else { throw DNSWireError(.truncatedMessage, "OPT data runs past the end of the message") }
        var options: [EDNSOption] = []
        while offset < end {
            let code = try readUInt16()
            let optionLength = Int(try readUInt16())
            guard offset + optionLength <= end else { throw DNSWireError(.badEDNS, "EDNS option \(code) runs past the OPT data") }
            options.append(EDNSOption(code: code, data: try readBytes(optionLength)))
        }
        return EDNS(udpPayloadSize: payloadSize, extendedResponseCode: extended, version: version, dnssecOK: flags & 0x8000 != 0, options: options)
    }

    mutating func readRecord() throws(DNSWireError) -> ResourceRecord {
        let name = try readName()
        let type = RecordType(try readUInt16())
        let dnsClass = DNSClass(rawValue: try readUInt16())
        let ttl = try readUInt32()
        let length = Int(try readUInt16())
        let start = offset
        let end = start + length
        guard end <= count else {
            throw DNSWireError(.truncatedMessage, "\(type) record data of \(length) bytes runs past the end of the message")
        }
        let data: RecordData
        switch type {
        case .a:
            guard length == 4 else { throw DNSWireError(.badRecord, "A record data of \(length) bytes (expected 4)") }
            data = .a(try readUInt32())
        case .aaaa:
            guard length == 16 else { throw DNSWireError(.badRecord, "AAAA record data of \(length) bytes (expected 16)") }
            let high = UInt64(try readUInt32()) << 32 | UInt64(try readUInt32())
            let low = UInt64(try readUInt32()) << 32 | UInt64(try readUInt32())
            data = .aaaa(high: high, low: low)
        case .ns:
            data = .ns(try readName())
        case .cname:
            data = .cname(try readName())
        case .ptr:
            data = .ptr(try readName())
        case .soa:
            let primary = try readName()
            let mailbox = try readName()
            data = .soa(
                StartOfAuthority(
                    primaryNameServer: primary, responsibleMailbox: mailbox, serial: try readUInt32(),
                    refresh: try readUInt32(), retry: try readUInt32(), expire: try readUInt32(), minimum: try readUInt32()))
        case .srv:
            let priority = try readUInt16()
            let weight = try readUInt16()
            let port = try readUInt16()
            data = .srv(priority: priority, weight: weight, port: port, target: try readName())
        case .mx:
            let preference = try readUInt16()
            data = .mx(preference: preference, exchange: try readName())
        case .txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let stringLength = Int(try readUInt8())
                guard offset + stringLength <= end else { throw DNSWireError(.badRecord, "TXT string runs past the record data") }
                strings.append(try readBytes(stringLength))
            }
            data = .txt(strings)
        case .hinfo:
            let cpuLength = Int(try readUInt8())
            let cpu = try readBytes(cpuLength)
            let osLength = Int(try readUInt8())
            data = .hinfo(cpu: cpu, os: try readBytes(osLength))
        default:
            data = .unknown(type: type, data: try readBytes(length))
        }
        guard offset == end else {
            throw DNSWireError(.badRecord, "\(type) record data is \(length) bytes but its fields take \(offset - start)")
        }
        return ResourceRecord(name: name, class: dnsClass, ttl: ttl, data: data)
    }
}
