import DNSWire
import NIOCore

/// Remembers the encoded response to each recent question so a repeated question is answered by
/// copying bytes: no decoding into values, no zone lookup, no encoding. One cache per thread (the
/// pipeline keeps it thread-local), so it needs no locks; it empties itself when the catalog changes.
///
/// Only plain queries take this path: opcode QUERY, one uncompressed question, no answer or
/// authority records, at most one OPT record. Everything else goes the full way.
///
/// Unchecked Sendable: an instance is created by, and only ever used on, one thread.
final class ResponseCache: @unchecked Sendable {
    /// Direct-mapped: a slot per hash, the newest question wins a collision.
    private var slots: [Slot?]
    private let mask: Int
    private var catalogIdentity: ObjectIdentifier?

    struct Slot {
        var hash: UInt64
        /// Lower-cased question name (wire form), then type, class, the size limit and whether
        /// the query had EDNS (our response then carries an OPT record).
        var key: [UInt8]
        var response: [UInt8]
    }

    /// What the fast parse learned about a query.
    struct Question {
        /// End of the question name (offset of QTYPE).
        var nameEnd: Int
        var hash: UInt64
        var maxSize: Int
        var hasEDNS: Bool
    }

    init(capacity: Int = 65536) {
        var size = 1
        while size < capacity { size <<= 1 }
        slots = Array(repeating: nil, count: size)
        mask = size - 1
    }

    /// What a lookup found: a ready response, or the parsed question to store the response under
    /// once it is computed (nil when the query is not a plain one and must not be cached).
    enum Lookup {
        case hit(ByteBuffer)
        case miss(Question?)
    }

    /// A copy of the cached response for `query`, with the client's ID, flags and spelling.
    func lookup(_ query: ByteBuffer, catalog: AnyObject, transport: DNSTransport, allocator: ByteBufferAllocator) -> Lookup {
        let identity = ObjectIdentifier(catalog)
        if identity != catalogIdentity {
            if catalogIdentity != nil { slots = Array(repeating: nil, count: slots.count) }
            catalogIdentity = identity
        }
        guard let parsed = Self.parse(query, transport: transport) else { return .miss(nil) }
        guard let slot = slots[Int(truncatingIfNeeded: parsed.hash) & mask],
            slot.hash == parsed.hash,
            Self.keyMatches(slot.key, query: query, parsed)
        else { return .miss(parsed) }

        var response = allocator.buffer(capacity: slot.response.count)
        response.writeBytes(slot.response)
        let base = query.readerIndex
        // The client's ID, its RD and CD bits, and its spelling of the question.
        response.setInteger(query.getInteger(at: base, as: UInt16.self)!, at: 0)
        let queryFlags = query.getInteger(at: base + 2, as: UInt16.self)!
        let cachedFlags = response.getInteger(at: 2, as: UInt16.self)!
        response.setInteger(cachedFlags & ~0x0110 | queryFlags & 0x0110, at: 2)
        response.setBytes(query.viewBytes(at: base + 12, length: parsed.nameEnd - 12)!, at: 12)
        return .hit(response)
    }

    /// Keeps `response` for later copies of `query`, whose plain question `lookup` parsed.
    func store(_ response: ByteBuffer, for query: ByteBuffer, question parsed: Question) {
        let base = query.readerIndex
        var key: [UInt8] = []
        key.reserveCapacity(parsed.nameEnd - 12 + 7)
        for offset in (base + 12)..<(base + parsed.nameEnd) {
            key.append(DNSName.asciiLowercased(query.getInteger(at: offset, as: UInt8.self)!))
        }
        key.append(contentsOf: query.viewBytes(at: base + parsed.nameEnd, length: 4)!)
        key.append(UInt8(truncatingIfNeeded: parsed.maxSize >> 8))
        key.append(UInt8(truncatingIfNeeded: parsed.maxSize))
        key.append(parsed.hasEDNS ? 1 : 0)
        slots[Int(truncatingIfNeeded: parsed.hash) & mask] = Slot(hash: parsed.hash, key: key, response: Array(response.readableBytesView))
    }

    /// Parses just enough of a plain query to key it, without allocating; nil for anything else.
    static func parse(_ query: ByteBuffer, transport: DNSTransport) -> Question? {
        let base = query.readerIndex
        let count = query.readableBytes
        guard count >= 17,
            let flags = query.getInteger(at: base + 2, as: UInt16.self),
            let questions = query.getInteger(at: base + 4, as: UInt16.self),
            let answers = query.getInteger(at: base + 6, as: UInt16.self),
            let authority = query.getInteger(at: base + 8, as: UInt16.self),
            let additional = query.getInteger(at: base + 10, as: UInt16.self),
            flags & 0xf800 == 0,  // QR=0, OPCODE=QUERY
            questions == 1, answers == 0, authority == 0, additional <= 1
        else { return nil }

        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var offset = 12
        var nameLength = 0
        while true {
            guard offset < count, let length = query.getInteger(at: base + offset, as: UInt8.self) else { return nil }
            // A compressed or odd label in a question: let the strict decoder deal with it.
            guard length & 0xc0 == 0 else { return nil }
            nameLength += Int(length) + 1
            guard nameLength <= 255, offset + 1 + Int(length) <= count else { return nil }
            hash = (hash ^ UInt64(length)) &* 0x0000_0100_0000_01b3
            if length == 0 { break }
            for index in (offset + 1)...(offset + Int(length)) {
                hash = (hash ^ UInt64(DNSName.asciiLowercased(query.getInteger(at: base + index, as: UInt8.self)!))) &* 0x0000_0100_0000_01b3
            }
            offset += 1 + Int(length)
        }
        let nameEnd = offset + 1
        guard nameEnd + 4 <= count,
            let type = query.getInteger(at: base + nameEnd, as: UInt16.self),
            let dnsClass = query.getInteger(at: base + nameEnd + 2, as: UInt16.self)
        else { return nil }
        // Zone transfers and ANY are rare and special; not worth a slot.
        guard type != 251 && type != 252 else { return nil }
        var end = nameEnd + 4
        var maxSize = transport == .tcp ? 65535 : 512
        if additional == 1 {
            // Only an OPT record: root owner, type 41, version 0.
            guard end + 11 <= count,
                query.getInteger(at: base + end, as: UInt8.self) == 0,
                query.getInteger(at: base + end + 1, as: UInt16.self) == 41,
                let payload = query.getInteger(at: base + end + 3, as: UInt16.self),
                query.getInteger(at: base + end + 6, as: UInt8.self) == 0,
                let dataLength = query.getInteger(at: base + end + 9, as: UInt16.self)
            else { return nil }
            end += 11 + Int(dataLength)
            if transport == .udp {
                maxSize = Int(min(max(payload, 512), QueryPipeline.maxUDPPayload))
            }
            // EDNS present or not changes the response (OPT record), so it is part of the key.
            hash = (hash ^ 0x4f) &* 0x0000_0100_0000_01b3
        }
        guard end == count else { return nil }
        for value in [type, dnsClass, UInt16(truncatingIfNeeded: maxSize)] {
            hash = (hash ^ UInt64(value)) &* 0x0000_0100_0000_01b3
        }
        return Question(nameEnd: nameEnd, hash: hash, maxSize: maxSize, hasEDNS: additional == 1)
    }

    private static func keyMatches(_ key: [UInt8], query: ByteBuffer, _ parsed: Question) -> Bool {
        let nameEnd = parsed.nameEnd
        guard key.count == nameEnd - 12 + 7 else { return false }
        let base = query.readerIndex
        var index = 0
        for offset in (base + 12)..<(base + nameEnd) {
            guard key[index] == DNSName.asciiLowercased(query.getInteger(at: offset, as: UInt8.self)!) else { return false }
            index += 1
        }
        for offset in (base + nameEnd)..<(base + nameEnd + 4) {
            guard key[index] == query.getInteger(at: offset, as: UInt8.self)! else { return false }
            index += 1
        }
        return key[index] == UInt8(truncatingIfNeeded: parsed.maxSize >> 8) && key[index + 1] == UInt8(truncatingIfNeeded: parsed.maxSize)
            && key[index + 2] == (parsed.hasEDNS ? 1 : 0)
    }
}
