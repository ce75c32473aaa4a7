/// A query read in place from its received bytes, once per datagram, without allocating: what
/// every answer path needs to find and write a response.
///
/// Only plain queries parse: QR=0, opcode QUERY, one question with an uncompressed name, no answer
/// or authority records, and at most one additional record that is an OPT of version 0 whose
/// options exactly fill its data. That is a subset of what `DNSMessageDecoder` accepts, read the
/// same way (the tests hold the two to it), so a view never stands for a query the strict decoder
/// would reject. Anything else returns nil and is answered through the strict decoder, which gives
/// the right error.
public struct DNSQueryView: Sendable {
    /// Offset of QTYPE: the question name spans `12..<nameEnd`.
    public var nameEnd: Int
    /// FNV-1a of the lower-cased wire name (`NameHasher`), so any spelling finds the same entry.
    public var nameHash: UInt64
    public var type: UInt16
    public var `class`: UInt16
    /// The most bytes the response may take (`DNSTransport.responseLimit`).
    public var maxSize: Int
    /// Whether the query had an OPT record (the response then carries ours).
    public var hasEDNS: Bool

    /// Offset just past QCLASS.
    @inlinable public var questionEnd: Int { nameEnd + 4 }
    /// Bytes of the wire name.
    @inlinable public var nameLength: Int { nameEnd - 12 }

    @inlinable
    public init?(_ query: UnsafeRawBufferPointer, transport: DNSTransport) {
        let count = query.count
        guard count >= 17 else { return nil }
        let flags = query.bigEndianUInt16(at: 2)
        let additional = query.bigEndianUInt16(at: 10)
        guard flags & 0xf800 == 0,  // QR=0, OPCODE=QUERY
            query.bigEndianUInt16(at: 4) == 1, query.bigEndianUInt16(at: 6) == 0, query.bigEndianUInt16(at: 8) == 0,
            additional <= 1
        else { return nil }

        guard let (nameEnd, nameHash) = Self.scanName(query) else { return nil }
        guard nameEnd + 4 <= count else { return nil }
        self.nameEnd = nameEnd
        self.nameHash = nameHash
        type = query.bigEndianUInt16(at: nameEnd)
        `class` = query.bigEndianUInt16(at: nameEnd + 2)
        var end = nameEnd + 4
        hasEDNS = additional == 1
        var payload: UInt16?
        if hasEDNS {
            // Root owner, type OPT, version 0 (other versions get BADVERS from the strict path).
            guard end + OPTRecord.fixedSize <= count, query[end] == 0, query.bigEndianUInt16(at: end + 1) == RecordType.opt.rawValue,
                query[end + 6] == 0
            else { return nil }
            payload = query.bigEndianUInt16(at: end + 3)
            let dataEnd = end + OPTRecord.fixedSize + Int(query.bigEndianUInt16(at: end + 9))
            guard dataEnd <= count else { return nil }
            // Options must tile the data exactly, as the strict decoder requires; none is echoed.
            var option = end + OPTRecord.fixedSize
            while option < dataEnd {
                guard option + 4 <= dataEnd else { return nil }
                option += 4 + Int(query.bigEndianUInt16(at: option + 2))
            }
            guard option == dataEnd else { return nil }
            end = dataEnd
        }
        guard end == count else { return nil }
        maxSize = transport.responseLimit(clientPayloadSize: payload)
    }

    /// The end and hash of an uncompressed question name starting at offset 12; nil when the name
    /// is compressed, longer than 255 bytes or cut short (the strict decoder's limits).
    @inlinable
    public static func scanName(_ query: UnsafeRawBufferPointer) -> (nameEnd: Int, nameHash: UInt64)? {
        let count = query.count
        var hasher = NameHasher()
        var offset = 12
        while true {
            guard offset < count else { return nil }
            let length = Int(query[offset])
            // A compressed or extended label in a question: the strict decoder deals with it.
            // The name so far, this label and the root label must fit in 255 bytes.
            guard length & 0xc0 == 0, offset + 1 + length <= count, length == 0 || offset - 12 + 1 + length + 1 <= DNSName.maxLength else { return nil }
            hasher.add(UInt8(length))
            if length == 0 { return (offset + 1, hasher.value) }
            for index in (offset + 1)...(offset + length) {
                hasher.add(DNSName.asciiLowercased(query[index]))
            }
            offset += 1 + length
        }
    }

    /// The question name in lower case: the form every zone is asked in (see `DNSMessageEncoder`
    /// for why answers never depend on the client's spelling).
    public func lowercasedName(in query: UnsafeRawBufferPointer) -> DNSName {
        DNSName(uncheckedWire: query[12..<nameEnd].map(DNSName.asciiLowercased))
    }

    /// The question with its name in lower case (`lowercasedName`).
    public func question(in query: UnsafeRawBufferPointer) -> DNSQuestion {
        DNSQuestion(name: lowercasedName(in: query), type: RecordType(type), class: DNSClass(rawValue: `class`))
    }

    /// Writes a response to this query: `flags` and the section counts of an answer encoded for
    /// the lower-cased question without EDNS, then the query's ID with its RD and CD bits, the
    /// client's own question bytes, `body` (every section after the question) and, when the query
    /// had EDNS, our OPT record. The one place every answer path assembles a response, so a
    /// response does not depend on which path answered.
    /// - Returns: the length written; nil when it would exceed `maxSize` or `output` (a longer
    ///   answer needs truncating, which only the encoder does).
    @inlinable
    public func writeResponse(
        to query: UnsafeRawBufferPointer, flags: UInt16, answerCount: UInt16, authorityCount: UInt16, additionalCount: UInt16,
        body: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let length = questionEnd + body.count + (hasEDNS ? OPTRecord.fixedSize : 0)
        guard length <= maxSize, length <= output.count else { return nil }
        output[0] = query[0]
        output[1] = query[1]
        output.storeBigEndian(flags & ~DNSHeader.echoedFlags | query.bigEndianUInt16(at: 2) & DNSHeader.echoedFlags, at: 2)
        output.storeBigEndian(1, at: 4)
        output.storeBigEndian(answerCount, at: 6)
        output.storeBigEndian(authorityCount, at: 8)
        output.storeBigEndian(additionalCount + (hasEDNS ? 1 : 0), at: 10)
        UnsafeMutableRawBufferPointer(rebasing: output[12..<questionEnd]).copyMemory(from: UnsafeRawBufferPointer(rebasing: query[12..<questionEnd]))
        if !body.isEmpty {
            UnsafeMutableRawBufferPointer(rebasing: output[questionEnd..<(questionEnd + body.count)]).copyMemory(from: body)
        }
        if hasEDNS {
            _ = OPTRecord.write(OPTRecord.ours, into: output, at: questionEnd + body.count)
        }
        return length
    }
}

/// FNV-1a, fed the lower-cased wire bytes of a name (length octets included): the hash every
/// byte-copying answer path keys names by.
public struct NameHasher: Sendable {
    @usableFromInline var state: UInt64 = 0xcbf2_9ce4_8422_2325

    /// The hash of what was added so far.
    @inlinable public var value: UInt64 { state }

    @inlinable public init() {}

    /// Continues from an earlier hash (a cache keys the name hash with the rest of the question).
    @inlinable public init(continuing value: UInt64) { state = value }

    @inlinable
    public mutating func add(_ byte: UInt8) {
        add(word: UInt64(byte))
    }

    @inlinable
    public mutating func add(word: UInt64) {
        state = (state ^ word) &* 0x0000_0100_0000_01b3
    }
}
