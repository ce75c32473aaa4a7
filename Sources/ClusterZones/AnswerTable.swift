import CPrefetch
import DNSWire
import NIOCore

/// The answers of every name a catalog holds, encoded once when the catalog is published: for each
/// name, its positive answer to each type it owns and its NODATA answer to every other type. A
/// query for such a name is then answered by copying bytes, as Knot DNS or NSD answer from their
/// compiled zones: no decoding into values, no zone lookup, no encoding, no allocation.
///
/// It is what the zones compile: every entry is `Catalog.answers(at:types:)` made bytes by
/// `Answer.encoded`, for the names `Catalog.forEachClusterZoneName` and `forEachName(in:)` list,
/// and a response is assembled by `DNSQueryView.writeResponse` as on every other path. What is not
/// here takes the general path: names not listed (NXDOMAIN, empty non-terminals, pods in
/// `insecure` mode), ExternalName names (CNAME chasing), meta types, classes other than IN, and
/// answers that do not fit the client's size limit (truncation).
public final class AnswerTable: Sendable {
    /// Entries back to back: name length, lower-cased wire name, answer count, then per answer
    /// QTYPE (0 for the NODATA answer), flags, the three section counts, body length, and the body
    /// (the encoded sections after the question) or, for NODATA, the body's offset in `noDataBodies`.
    private let entries: [UInt8]
    /// NODATA bodies, each kept once: a NODATA body is the zone's SOA, whose names point back at
    /// its owner at an offset set by the question's length, so it depends only on the zone and the
    /// name's length, and a few hundred serve every name (9 MB less for 50k services, and they stay
    /// in the CPU's cache).
    private let noDataBodies: [UInt8]
    /// The index on the names (`NameSlots`).
    private let slots: [UInt64]
    private let mask: Int
    /// Names held.
    public let nameCount: Int

    /// Bytes held by the entries and the index.
    public var byteCount: Int { entries.count + noDataBodies.count + slots.count * MemoryLayout<UInt64>.size }

    private static let answerHeaderSize = 12

    public init(catalog: Catalog) {
        var builder = Builder(catalog: catalog)
        // Reserved generously up front: growing a table of tens of MB by doubling copies it each
        // time and leaves the old copies to the allocator; capacity never written is not resident.
        var names = 0
        catalog.forEachClusterZoneName { _, _ in names += 1 }
        for zone in catalog.reverseZones { catalog.forEachName(in: zone) { _, _ in names += 1 } }
        builder.entries.reserveCapacity(names * 256)
        builder.index.reserve(names)
        catalog.forEachClusterZoneName { builder.add($0, types: $1) }
        for zone in catalog.reverseZones {
            catalog.forEachName(in: zone) { builder.add($0, types: $1) }
        }
        // Not copied to trim their capacity: the unused tail was never written, so it is not
        // resident, and a copy would double the table at the moment the old catalog still lives.
        entries = builder.entries
        noDataBodies = builder.noDataBodies
        slots = builder.index.slots
        mask = builder.index.slots.count - 1
        nameCount = builder.index.count
    }

    /// Writes the response to `query` into `output`; the number of bytes written, or nil when the
    /// general path must answer.
    public func answer(_ view: DNSQueryView, query: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        // Type 0 would collide with the NODATA entries' key; meta types are the catalog's to decide.
        guard view.class == DNSClass.in.rawValue, view.type != 0, !RecordType(view.type).isMeta else { return nil }
        return entries.withUnsafeBytes { entries -> Int? in
            guard let entry = find(query, view, in: entries) else { return nil }
            var cursor = entry + 1 + Int(entries[entry]) + 1
            var chosen: Int?
            var noData: Int?
            for _ in 0..<entries[cursor - 1] {
                let type = entries.bigEndianUInt16(at: cursor)
                if type == view.type {
                    chosen = cursor
                    break
                }
                if type == 0 { noData = cursor }
                cursor += Self.answerHeaderSize + (type == 0 ? 4 : Int(entries.bigEndianUInt16(at: cursor + 10)))
            }
            guard let answer = chosen ?? noData else { return nil }
            let bodyLength = Int(entries.bigEndianUInt16(at: answer + 10))
            let bodyStart = answer + Self.answerHeaderSize
            func write(_ body: UnsafeRawBufferPointer) -> Int? {
                view.writeResponse(
                    to: query, flags: entries.bigEndianUInt16(at: answer + 2), answerCount: entries.bigEndianUInt16(at: answer + 4),
                    authorityCount: entries.bigEndianUInt16(at: answer + 6), additionalCount: entries.bigEndianUInt16(at: answer + 8),
                    body: body, into: output)
            }
            if chosen == nil {
                let offset = Int(entries.bigEndianUInt16(at: bodyStart)) << 16 | Int(entries.bigEndianUInt16(at: bodyStart + 2))
                return noDataBodies.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + bodyLength)])) }
            }
            return write(UnsafeRawBufferPointer(rebasing: entries[bodyStart..<(bodyStart + bodyLength)]))
        }
    }

    /// First step of fetching an answer's memory ahead of time: the index slot for `nameHash`.
    /// - Returns: a token for `prefetchEntry(token:)`.
    public func prefetchSlot(nameHash: UInt64) -> Int {
        let index = Int(truncatingIfNeeded: nameHash) & mask
        slots.withUnsafeBufferPointer { cprefetch($0.baseAddress! + index) }
        return index + 1
    }

    /// Second step: the first lines of the entry that slot points at. A token from an older table
    /// only wastes the hint.
    public func prefetchEntry(token: Int) {
        guard token > 0, token <= slots.count else { return }
        let slot = slots[token - 1]
        guard slot != 0 else { return }
        let entry = NameSlots.entry(of: slot)
        entries.withUnsafeBytes { entries in
            cprefetch(entries.baseAddress! + entry)
            if entry + 64 < entries.count { cprefetch(entries.baseAddress! + entry + 64) }
        }
    }

    private func find(_ query: UnsafeRawBufferPointer, _ view: DNSQueryView, in entries: UnsafeRawBufferPointer) -> Int? {
        let nameLength = view.nameLength
        return slots.withUnsafeBufferPointer { slots in
            NameSlots.find(view.nameHash, in: slots) { entry in
                Int(entries[entry]) == nameLength && Self.nameMatches(query, entries, at: entry + 1, length: nameLength)
            }
        }
    }

    private static func nameMatches(_ query: UnsafeRawBufferPointer, _ entries: UnsafeRawBufferPointer, at offset: Int, length: Int) -> Bool {
        for index in 0..<length where entries[offset + index] != DNSName.asciiLowercased(query[12 + index]) {
            return false
        }
        return true
    }

    /// Asks the catalog each listed type at each listed name and appends the encoded answers.
    private struct Builder {
        let catalog: Catalog
        var entries: [UInt8] = []
        var noDataBodies: [UInt8] = []
        var noDataOffsets: [ArraySlice<UInt8>: Int] = [:]
        var index = NameIndex()
        var scratch = ByteBufferAllocator().buffer(capacity: 4096)

        /// A type no name here owns, asked too, so every name has its NODATA answer.
        static let unownedType = RecordType(10)  // NULL

        mutating func add(_ name: DNSName, types: [RecordType]) {
            let lowercased = name.lowercased()
            let wire = lowercased.wire
            var hasher = NameHasher()
            for byte in wire { hasher.add(byte) }
            let start = entries.count
            // Offsets are 32 bits; names past 4 GiB of answers stay on the general path.
            guard start < Int(UInt32.max) - 0x1_0000, index.find(hasher.value, matching: wire, in: entries) == nil else { return }

            entries.append(UInt8(wire.count))
            entries.append(contentsOf: wire)
            let countIndex = entries.count
            entries.append(0)
            var hasNoData = false
            let askedTypes = types + [Self.unownedType]
            let question = DNSQuestion(name: lowercased, type: Self.unownedType)
            for (type, answer) in zip(askedTypes, catalog.answers(at: name, types: askedTypes)) {
                // Only plain positive and NODATA answers are copied; a CNAME (ExternalName) is chased
                // per question type, so its name stays on the general path.
                guard answer.responseCode == .noError, !answer.answers.contains(where: { $0.type == .cname }) else {
                    entries.removeSubrange(start...)
                    return
                }
                let isNoData = answer.answers.isEmpty
                if isNoData && hasNoData { continue }
                append(answer, question: question, as: isNoData ? 0 : type.rawValue)
                hasNoData = hasNoData || isNoData
                entries[countIndex] += 1
            }
            index.insert(hasher.value, offset: start, entries: entries)
        }

        /// The answer's parts: its header words, then its body, or for NODATA where its body is in
        /// `noDataBodies`. The question's type is not encoded, so one question serves every type.
        private mutating func append(_ answer: Answer, question: DNSQuestion, as key: UInt16) {
            answer.encoded(for: question, scratch: &scratch) { encoded in
                for value in [key, encoded.flags, encoded.answerCount, encoded.authorityCount, encoded.additionalCount, UInt16(encoded.body.count)] {
                    entries.append(UInt8(truncatingIfNeeded: value >> 8))
                    entries.append(UInt8(truncatingIfNeeded: value))
                }
                guard key == 0 else {
                    entries.append(contentsOf: encoded.body)
                    return
                }
                let body = ArraySlice(encoded.body)
                let offset: Int
                if let known = noDataOffsets[body] {
                    offset = known
                } else {
                    offset = noDataBodies.count
                    noDataBodies.append(contentsOf: body)
                    noDataOffsets[body] = offset
                }
                for shift in [24, 16, 8, 0] { entries.append(UInt8(truncatingIfNeeded: offset >> shift)) }
            }
        }
    }

    /// The hash index while building: grows to keep the load at most one half.
    private struct NameIndex {
        var slots = [UInt64](repeating: 0, count: 1024)
        var count = 0

        func find(_ hash: UInt64, matching wire: [UInt8], in entries: [UInt8]) -> Int? {
            slots.withUnsafeBufferPointer { slots in
                NameSlots.find(hash, in: slots) { entry in
                    Int(entries[entry]) == wire.count && entries[(entry + 1)...(entry + wire.count)].elementsEqual(wire)
                }
            }
        }

        /// Sizes the index for `count` names at once, so it does not grow while building.
        mutating func reserve(_ count: Int) {
            var size = slots.count
            while size < count * 2 { size *= 2 }
            if size > slots.count { slots = [UInt64](repeating: 0, count: size) }
        }

        mutating func insert(_ hash: UInt64, offset: Int, entries: [UInt8]) {
            if (count + 1) * 2 > slots.count { grow(entries: entries) }
            Self.place(hash, offset: offset, in: &slots)
            count += 1
        }

        private static func place(_ hash: UInt64, offset: Int, in slots: inout [UInt64]) {
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: hash) & mask
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = NameSlots.slot(hash: hash, entry: offset)
        }

        private mutating func grow(entries: [UInt8]) {
            var larger = [UInt64](repeating: 0, count: slots.count * 2)
            for slot in slots where slot != 0 {
                let entry = NameSlots.entry(of: slot)
                var hasher = NameHasher()
                for byte in entries[(entry + 1)...(entry + Int(entries[entry]))] { hasher.add(byte) }
                Self.place(hasher.value, offset: entry, in: &larger)
            }
            slots = larger
        }
    }
}

/// The index of compiled answers: open addressing with linear probing, each taken slot holding
/// the top 32 bits of the name's hash (compared before any entry is touched) and the entry's
/// offset plus one (0 is empty). One probe loop serves building and answering.
enum NameSlots {
    static func slot(hash: UInt64, entry: Int) -> UInt64 {
        hash & 0xffff_ffff_0000_0000 | UInt64(entry + 1)
    }

    static func entry(of slot: UInt64) -> Int {
        Int(truncatingIfNeeded: slot & 0xffff_ffff) - 1
    }

    /// The entry of the first slot for `hash` whose tag agrees and that `matches` accepts.
    @inline(__always)
    static func find(_ hash: UInt64, in slots: UnsafeBufferPointer<UInt64>, where matches: (Int) -> Bool) -> Int? {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return nil }
            if slot >> 32 == hash >> 32, matches(entry(of: slot)) { return entry(of: slot) }
            index = (index + 1) & mask
        }
    }
}
