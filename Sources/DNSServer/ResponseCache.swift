import ClusterZones
import DNSWire

/// Remembers the encoded answer to each recent question the answer table could not give (NXDOMAIN
/// for the names a search path makes up, CNAME chains, truncated answers), so a repeated question
/// is answered by copying bytes. One cache per thread (the pipeline keeps it thread-local), so it
/// needs no locks. It answers only from the current catalog generation: each slot remembers the
/// generation it was stored in, so a new catalog costs nothing to adopt (a registry that changes
/// twenty times a second must not pay for emptying 65k slots each time).
///
/// Only the general path stores here, and only answers to queries `DNSQueryView` read: an error
/// response to a malformed query is never kept as the answer to its question.
///
/// Unchecked Sendable: an instance is created by, and only ever used on, one thread.
final class ResponseCache: QueryAnswerer, @unchecked Sendable {
    /// Direct-mapped: a slot per hash, the newest question wins a collision.
    private var slots: [Slot?]
    private let mask: Int
    /// The catalog generation answered from. A number, not the catalog's identity: a freed
    /// catalog's address can be reused by a later one.
    private var generation: UInt64 = 0

    struct Slot {
        /// The generation the answer belongs to; a slot of any other is a miss.
        var generation: UInt64
        var hash: UInt64
        /// Lower-cased question name (wire form), then type, class, the size limit and whether
        /// the query had EDNS.
        var key: [UInt8]
        /// Flags and the three section counts (8 bytes), then the body (`EncodedAnswer`).
        var answer: [UInt8]
    }

    init(capacity: Int = 65536) {
        var size = 1
        while size < capacity { size <<= 1 }
        slots = Array(repeating: nil, count: size)
        mask = size - 1
    }

    /// Makes the cache answer from catalog `generation` only; slots of any other are misses,
    /// overwritten as new answers are stored.
    func adopt(generation: UInt64) {
        self.generation = generation
    }

    func answer(_ view: DNSQueryView, query: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let hash = Self.hash(view)
        guard let slot = slots[Int(truncatingIfNeeded: hash) & mask], slot.generation == generation, slot.hash == hash,
            Self.keyMatches(slot.key, query: query, view)
        else { return nil }
        return slot.answer.withUnsafeBytes { answer in
            view.writeResponse(
                to: query, flags: answer.bigEndianUInt16(at: 0), answerCount: answer.bigEndianUInt16(at: 2),
                authorityCount: answer.bigEndianUInt16(at: 4), additionalCount: answer.bigEndianUInt16(at: 6),
                body: UnsafeRawBufferPointer(rebasing: answer[8...]), into: output)
        }
    }

    /// Keeps `encoded` for later copies of `query`.
    func store(_ encoded: EncodedAnswer, for view: DNSQueryView, query: UnsafeRawBufferPointer) {
        let hash = Self.hash(view)
        var answer: [UInt8] = []
        answer.reserveCapacity(8 + encoded.body.count)
        for value in [encoded.flags, encoded.answerCount, encoded.authorityCount, encoded.additionalCount] {
            answer.append(UInt8(truncatingIfNeeded: value >> 8))
            answer.append(UInt8(truncatingIfNeeded: value))
        }
        answer.append(contentsOf: encoded.body)
        slots[Int(truncatingIfNeeded: hash) & mask] = Slot(generation: generation, hash: hash, key: Self.key(query, view), answer: answer)
    }

    private static func hash(_ view: DNSQueryView) -> UInt64 {
        var hasher = NameHasher(continuing: view.nameHash)
        hasher.add(word: UInt64(view.type))
        hasher.add(word: UInt64(view.class))
        hasher.add(word: UInt64(view.maxSize))
        hasher.add(word: view.hasEDNS ? 1 : 0)
        return hasher.value
    }

    private static func key(_ query: UnsafeRawBufferPointer, _ view: DNSQueryView) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(view.nameLength + 7)
        for offset in 12..<view.nameEnd { key.append(DNSName.asciiLowercased(query[offset])) }
        key.append(contentsOf: query[view.nameEnd..<view.questionEnd])
        key.append(UInt8(truncatingIfNeeded: view.maxSize >> 8))
        key.append(UInt8(truncatingIfNeeded: view.maxSize))
        key.append(view.hasEDNS ? 1 : 0)
        return key
    }

    /// `key(query, view) == key`, without building the key.
    private static func keyMatches(_ key: [UInt8], query: UnsafeRawBufferPointer, _ view: DNSQueryView) -> Bool {
        guard key.count == view.nameLength + 7 else { return false }
        var index = 0
        for offset in 12..<view.nameEnd {
            guard key[index] == DNSName.asciiLowercased(query[offset]) else { return false }
            index += 1
        }
        for offset in view.nameEnd..<view.questionEnd {
            guard key[index] == query[offset] else { return false }
            index += 1
        }
        return key[index] == UInt8(truncatingIfNeeded: view.maxSize >> 8) && key[index + 1] == UInt8(truncatingIfNeeded: view.maxSize)
            && key[index + 2] == (view.hasEDNS ? 1 : 0)
    }
}
