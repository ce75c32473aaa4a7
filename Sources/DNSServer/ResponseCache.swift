import DNSWire
import NIOCore

/// Remembers the encoded response to each recent question the compiled answers could not give
/// (NXDOMAIN for the names a search path makes up, CNAME chains, truncated answers), so a repeated
/// question is answered by copying bytes. One cache per thread (the pipeline keeps it thread-local),
/// so it needs no locks; it empties itself when the catalog changes.
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

    init(capacity: Int = 65536) {
        var size = 1
        while size < capacity { size <<= 1 }
        slots = Array(repeating: nil, count: size)
        mask = size - 1
    }

    /// Writes the cached response to `query` into `output`, with the client's ID, RD and CD bits and
    /// spelling; the number of bytes written, or nil on a miss.
    func respond(to query: UnsafeRawBufferPointer, _ parsed: PlainQuery, catalog: AnyObject, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let identity = ObjectIdentifier(catalog)
        if identity != catalogIdentity {
            if catalogIdentity != nil { slots = Array(repeating: nil, count: slots.count) }
            catalogIdentity = identity
        }
        guard Self.isCacheable(parsed) else { return nil }
        let hash = Self.hash(parsed)
        guard let slot = slots[Int(truncatingIfNeeded: hash) & mask], slot.hash == hash,
            Self.keyMatches(slot.key, query: query, parsed), slot.response.count <= output.count
        else { return nil }

        slot.response.withUnsafeBytes { output.copyMemory(from: $0) }
        parsed.stampClientParts(of: query, flags: UnsafeRawBufferPointer(output).bigEndianUInt16(at: 2), into: output)
        return slot.response.count
    }

    /// Keeps `response` for later copies of `query`.
    func store(_ response: ByteBuffer, for query: UnsafeRawBufferPointer, _ parsed: PlainQuery) {
        guard Self.isCacheable(parsed) else { return }
        let hash = Self.hash(parsed)
        slots[Int(truncatingIfNeeded: hash) & mask] = Slot(hash: hash, key: Self.key(query, parsed), response: Array(response.readableBytesView))
    }

    /// Zone transfers and ANY are rare and special; not worth a slot.
    private static func isCacheable(_ parsed: PlainQuery) -> Bool {
        parsed.type != 251 && parsed.type != 252 && parsed.type != 255
    }

    private static func hash(_ parsed: PlainQuery) -> UInt64 {
        var hasher = NameHasher(continuing: parsed.nameHash)
        hasher.add(word: UInt64(parsed.type))
        hasher.add(word: UInt64(parsed.class))
        hasher.add(word: UInt64(parsed.maxSize))
        hasher.add(word: parsed.hasEDNS ? 1 : 0)
        return hasher.value
    }

    private static func key(_ query: UnsafeRawBufferPointer, _ parsed: PlainQuery) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(parsed.nameEnd - 12 + 7)
        for offset in 12..<parsed.nameEnd { key.append(DNSName.asciiLowercased(query[offset])) }
        key.append(contentsOf: query[parsed.nameEnd..<parsed.questionEnd])
        key.append(UInt8(truncatingIfNeeded: parsed.maxSize >> 8))
        key.append(UInt8(truncatingIfNeeded: parsed.maxSize))
        key.append(parsed.hasEDNS ? 1 : 0)
        return key
    }

    /// `key(query, parsed) == key`, without building the key.
    private static func keyMatches(_ key: [UInt8], query: UnsafeRawBufferPointer, _ parsed: PlainQuery) -> Bool {
        guard key.count == parsed.nameEnd - 12 + 7 else { return false }
        var index = 0
        for offset in 12..<parsed.nameEnd {
            guard key[index] == DNSName.asciiLowercased(query[offset]) else { return false }
            index += 1
        }
        for offset in parsed.nameEnd..<parsed.questionEnd {
            guard key[index] == query[offset] else { return false }
            index += 1
        }
        return key[index] == UInt8(truncatingIfNeeded: parsed.maxSize >> 8) && key[index + 1] == UInt8(truncatingIfNeeded: parsed.maxSize)
            && key[index + 2] == (parsed.hasEDNS ? 1 : 0)
    }
}
