import DNSWire

/// What the byte-copying paths (compiled answers, response cache) need to know about a query,
/// read straight from the received bytes without allocating.
///
/// Only plain queries parse: QR=0, opcode QUERY, one question with an uncompressed name, no answer
/// or authority records, and at most one additional record that is an OPT of version 0. Anything
/// else returns nil and goes the general way, where the strict decoder gives the right error.
struct PlainQuery {
    /// Offset of QTYPE: the question name spans `12..<nameEnd`.
    var nameEnd: Int
    /// FNV-1a of the lower-cased wire name (`NameHasher`), so any spelling finds the same entry.
    var nameHash: UInt64
    var type: UInt16
    var `class`: UInt16
    /// The most bytes the response may take: 512 without EDNS over UDP, the client's EDNS size
    /// bounded by ours, 65535 over TCP.
    var maxSize: Int
    /// Whether the query had an OPT record (the response then carries one).
    var hasEDNS: Bool

    /// Offset just past QCLASS.
    var questionEnd: Int { nameEnd + 4 }

    init?(_ query: UnsafeRawBufferPointer, transport: DNSTransport) {
        let count = query.count
        guard count >= 17 else { return nil }
        let flags = query.bigEndianUInt16(at: 2)
        let additional = query.bigEndianUInt16(at: 10)
        guard flags & 0xf800 == 0,  // QR=0, OPCODE=QUERY
            query.bigEndianUInt16(at: 4) == 1, query.bigEndianUInt16(at: 6) == 0, query.bigEndianUInt16(at: 8) == 0,
            additional <= 1
        else { return nil }

        guard let (nameEnd, nameHash) = Self.scanName(query) else { return nil }
        self.nameEnd = nameEnd
        self.nameHash = nameHash
        guard nameEnd + 4 <= count else { return nil }
        type = query.bigEndianUInt16(at: nameEnd)
        `class` = query.bigEndianUInt16(at: nameEnd + 2)
        var end = nameEnd + 4
        hasEDNS = additional == 1
        var payload: UInt16?
        if hasEDNS {
            // Root owner, type OPT, version 0; options are skipped (none is echoed).
            guard end + 11 <= count, query[end] == 0, query.bigEndianUInt16(at: end + 1) == 41, query[end + 6] == 0 else { return nil }
            payload = query.bigEndianUInt16(at: end + 3)
            end += 11 + Int(query.bigEndianUInt16(at: end + 9))
        }
        guard end == count else { return nil }
        maxSize = QueryPipeline.responseLimit(over: transport, clientPayloadSize: payload)
    }
}

extension PlainQuery {
    /// The end and hash of an uncompressed question name starting at offset 12; nil when the
    /// name is compressed, too long or cut short.
    static func scanName(_ query: UnsafeRawBufferPointer) -> (nameEnd: Int, nameHash: UInt64)? {
        let count = query.count
        var hasher = NameHasher()
        var offset = 12
        while true {
            guard offset < count else { return nil }
            let length = Int(query[offset])
            // A compressed or extended label in a question: the strict decoder deals with it.
            guard length & 0xc0 == 0, offset + 1 + length <= count, offset + 1 + length - 12 <= DNSName.maxLength else { return nil }
            hasher.add(UInt8(length))
            if length == 0 { return (offset + 1, hasher.value) }
            for index in (offset + 1)...(offset + length) {
                hasher.add(DNSName.asciiLowercased(query[index]))
            }
            offset += 1 + length
        }
    }
}

extension PlainQuery {
    /// The bits of the header flags a response echoes from its query: RD and CD.
    static let echoedFlags: UInt16 = 0x0110

    /// Writes what a copied response takes from its query: the ID, the RD and CD bits over our
    /// `flags`, and the client's spelling of the question (the response's question section has the
    /// same length, so every offset in the copied records still holds).
    func stampClientParts(of query: UnsafeRawBufferPointer, flags: UInt16, into output: UnsafeMutableRawBufferPointer) {
        output[0] = query[0]
        output[1] = query[1]
        output.storeBigEndian(flags & ~Self.echoedFlags | query.bigEndianUInt16(at: 2) & Self.echoedFlags, at: 2)
        UnsafeMutableRawBufferPointer(rebasing: output[12..<questionEnd]).copyMemory(from: UnsafeRawBufferPointer(rebasing: query[12..<questionEnd]))
    }
}

/// FNV-1a, fed the lower-cased wire bytes of a name (length octets included).
struct NameHasher {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    init() {}

    /// Continues from an earlier hash (the response cache keys the name hash with the rest of the question).
    init(continuing value: UInt64) { self.value = value }

    mutating func add(_ byte: UInt8) {
        add(word: UInt64(byte))
    }

    mutating func add(word: UInt64) {
        value = (value ^ word) &* 0x0000_0100_0000_01b3
    }
}

extension UnsafeRawBufferPointer {
    func bigEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }
}

extension UnsafeMutableRawBufferPointer {
    func storeBigEndian(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}
