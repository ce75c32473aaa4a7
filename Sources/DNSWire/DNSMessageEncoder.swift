import NIOCore

/// Writes messages with name compression (owner names and the names inside NS, CNAME, PTR, MX
/// and SOA data; never SRV targets, per RFC 2782) and truncation at a record boundary.
///
/// The question name is a compression target only as a whole: a name equal to it (ignoring case)
/// points at it, and no other name points inside it. So what follows the question never depends
/// on how the client spelled it, and a response encoded for the lower-cased question becomes the
/// response to any spelling by copying the client's question over it: the one case rule, which
/// keeps the byte-copying answer paths identical to this encoder.
public enum DNSMessageEncoder {
    /// Encodes `message` into `buffer`, keeping the result within `maxSize` bytes.
    ///
    /// A message that does not fit is cut at the end of the last RRset that fits whole, never
    /// inside one (RFC 2181 §9: a resolver must not cache part of an RRset): when that is in the
    /// answer or authority section TC is set, and nothing after it is sent (minimal, so a large
    /// answer over UDP is a small invitation to retry over TCP, not an amplifier); additional
    /// RRsets that do not fit are left out without TC. The OPT record always fits: its space is
    /// reserved first.
    /// - Returns: true when the message was truncated (TC set).
    @discardableResult
    public static func encode(_ message: DNSMessage, into buffer: inout ByteBuffer, maxSize: Int = 65535) -> Bool {
        var writer = WireWriter(start: buffer.writerIndex)
        let headerIndex = buffer.writerIndex
        buffer.writeInteger(message.header.id)
        buffer.writeInteger(message.header.flags)
        buffer.writeInteger(UInt16(message.questions.count))
        buffer.writeRepeatingByte(0, count: 6)  // section counts, patched below

        for question in message.questions {
            writer.writeQuestionName(question.name, into: &buffer)
            buffer.writeInteger(question.type.rawValue)
            buffer.writeInteger(question.class.rawValue)
        }

        let limit = max(12, maxSize - (message.edns?.encodedSize ?? 0))
        var truncated = false
        var counts: [UInt16] = [0, 0, 0]
        sections: for (section, records) in [message.answers, message.authority, message.additional].enumerated() {
            // Where the RRset being written began, and how many records the section had then.
            var rrset = (start: buffer.writerIndex, count: UInt16(0))
            for (index, record) in records.enumerated() {
                if index == 0 || !record.isInSameRRset(as: records[index - 1]) {
                    rrset = (buffer.writerIndex, counts[section])
                }
                writer.writeRecord(record, into: &buffer)
                if buffer.writerIndex - headerIndex > limit {
                    buffer.moveWriterIndex(to: rrset.start)
                    writer.forgetNames(from: rrset.start)
                    counts[section] = rrset.count
                    if section < 2 { truncated = true }
                    break sections
                }
                counts[section] += 1
            }
        }

        var additionalCount = counts[2]
        if let edns = message.edns {
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: edns.encodedSize) { OPTRecord.write(edns, into: $0, at: 0) }
            additionalCount += 1
        }

        var flags = message.header.flags
        if truncated { flags |= 0x0200 }
        buffer.setInteger(flags, at: headerIndex + 2)
        buffer.setInteger(counts[0], at: headerIndex + 6)
        buffer.setInteger(counts[1], at: headerIndex + 8)
        buffer.setInteger(additionalCount, at: headerIndex + 10)
        return truncated
    }

    /// Convenience for tests and tools: the encoded bytes.
    public static func encode(_ message: DNSMessage, maxSize: Int = 65535) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 512)
        encode(message, into: &buffer, maxSize: maxSize)
        return Array(buffer.readableBytesView)
    }
}

/// Remembers where each label of an uncompressed name was written, so later names can point at
/// a matching suffix. Matching walks the bytes already written (following their pointers) rather
/// than hashing suffixes: responses hold few names, and a scan allocates nothing.
struct WireWriter {
    let start: Int
    /// Writer indices of label starts a pointer can reach (offset below 0x3fff), in write order.
    private var labelPositions: [Int] = []
    /// The first question's name and where it starts: a target for whole names only.
    private var question: (name: DNSName, position: Int)?

    init(start: Int) {
        self.start = start
        labelPositions.reserveCapacity(32)
    }

    /// Writes a question name in full; the first becomes the target of every later name equal to it.
    mutating func writeQuestionName(_ name: DNSName, into buffer: inout ByteBuffer) {
        if question == nil, buffer.writerIndex - start < 0x3fff { question = (name, buffer.writerIndex) }
        buffer.writeBytes(name.wire)
    }

    mutating func writeName(_ name: DNSName, into buffer: inout ByteBuffer, compress: Bool) {
        if compress, let question, name.equalsIgnoringCase(question.name) {
            buffer.writeInteger(UInt16(0xc000 | (question.position - start)))
            return
        }
        let wire = name.wire
        var index = 0
        while wire[index] != 0 {
            if compress, let target = position(ofSuffix: wire, from: index, in: buffer) {
                buffer.writeInteger(UInt16(0xc000 | (target - start)))
                return
            }
            let position = buffer.writerIndex
            if position - start < 0x3fff {
                labelPositions.append(position)
            }
            let length = Int(wire[index])
            buffer.writeBytes(wire[index...(index + length)])
            index += 1 + length
        }
        buffer.writeInteger(UInt8(0))
    }

    /// Where the labels `wire[index...]` were written before, byte for byte (case-sensitive, so
    /// the client's spelling survives), or nil.
    private func position(ofSuffix wire: [UInt8], from index: Int, in buffer: ByteBuffer) -> Int? {
        for position in labelPositions where matches(buffer, at: position, wire, from: index) {
            return position
        }
        return nil
    }

    private func matches(_ buffer: ByteBuffer, at position: Int, _ wire: [UInt8], from index: Int) -> Bool {
        var cursor = position
        var wireIndex = index
        var hops = 0
        while true {
            guard let length = buffer.getInteger(at: cursor, as: UInt8.self) else { return false }
            if length & 0xc0 == 0xc0 {
                // Our own earlier pointers only ever point backwards, so this ends.
                guard hops < 128, let low = buffer.getInteger(at: cursor + 1, as: UInt8.self) else { return false }
                cursor = start + (Int(length & 0x3f) << 8 | Int(low))
                hops += 1
                continue
            }
            guard length == wire[wireIndex] else { return false }
            if length == 0 { return true }
            for offset in 1...Int(length) where buffer.getInteger(at: cursor + offset, as: UInt8.self) != wire[wireIndex + offset] {
                return false
            }
            cursor += 1 + Int(length)
            wireIndex += 1 + Int(length)
        }
    }

    mutating func forgetNames(from writerIndex: Int) {
        if let question, question.position >= writerIndex { self.question = nil }
        labelPositions.removeAll { $0 >= writerIndex }
    }

}

/// What writes the names of a message, compressing them or not: the encoder of single responses
/// (`WireWriter`) and the one of zone transfers (`StreamedResponseEncoder`) differ only in how
/// they find an earlier copy of a name, so the record layout lives once, here.
protocol NameWriter {
    mutating func writeName(_ name: DNSName, into buffer: inout ByteBuffer, compress: Bool)
}

extension WireWriter: NameWriter {}

extension NameWriter {
    mutating func writeRecord(_ record: ResourceRecord, into buffer: inout ByteBuffer) {
        writeName(record.name, into: &buffer, compress: true)
        buffer.writeInteger(record.type.rawValue)
        buffer.writeInteger(record.class.rawValue)
        buffer.writeInteger(record.ttl)
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt16(0))
        switch record.data {
        case .a(let address):
            buffer.writeInteger(address)
        case .aaaa(let high, let low):
            buffer.writeInteger(high)
            buffer.writeInteger(low)
        case .ns(let name), .cname(let name), .ptr(let name):
            writeName(name, into: &buffer, compress: true)
        case .soa(let soa):
            writeName(soa.primaryNameServer, into: &buffer, compress: true)
            writeName(soa.responsibleMailbox, into: &buffer, compress: true)
            buffer.writeInteger(soa.serial)
            buffer.writeInteger(soa.refresh)
            buffer.writeInteger(soa.retry)
            buffer.writeInteger(soa.expire)
            buffer.writeInteger(soa.minimum)
        case .srv(let priority, let weight, let port, let target):
            buffer.writeInteger(priority)
            buffer.writeInteger(weight)
            buffer.writeInteger(port)
            writeName(target, into: &buffer, compress: false)
        case .mx(let preference, let exchange):
            buffer.writeInteger(preference)
            writeName(exchange, into: &buffer, compress: true)
        case .txt(let strings):
            for string in strings {
                let chunk = string.prefix(255)
                buffer.writeInteger(UInt8(chunk.count))
                buffer.writeBytes(chunk)
            }
        case .hinfo(let cpu, let os):
            buffer.writeInteger(UInt8(min(cpu.count, 255)))
            buffer.writeBytes(cpu.prefix(255))
            buffer.writeInteger(UInt8(min(os.count, 255)))
            buffer.writeBytes(os.prefix(255))
        case .unknown(_, let data):
            buffer.writeBytes(data)
        }
        buffer.setInteger(UInt16(buffer.writerIndex - lengthIndex - 2), at: lengthIndex)
    }
}
