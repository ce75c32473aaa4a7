import CPrefetch
import DNSWire
import NIOCore
import ServiceRegistry

/// The answers of every name a catalog holds, encoded once when the catalog is published: for each
/// name, its positive answer to each type it owns and its NODATA answer to every other type. A
/// query for such a name is then answered by copying bytes, as Knot DNS or NSD answer from their
/// compiled zones: no decoding into values, no zone lookup, no encoding, no allocation.
///
/// It is what the zones compile: every entry is `Catalog.answers(at:types:)` made bytes by
/// `Answer.encoded` (given what the walk knows a name resolves to, so that it is not resolved
/// again), for the names `Catalog.forEachClusterZoneName` and `forEachName(in:)` list,
/// and a response is assembled by `DNSQueryView.writeResponse` as on every other path. What is not
/// here takes the general path: names not listed (NXDOMAIN, empty non-terminals, pods in
/// `insecure` mode), ExternalName names (CNAME chasing), meta types, classes other than IN, and
/// answers that do not fit the client's size limit (truncation).
///
/// Unchecked Sendable: immutable after init; `views` points into shards this table holds.
public final class AnswerTable: @unchecked Sendable {
    /// The names split by hash into shards, each its own small table, so a change copies only the
    /// shards holding the names it touches.
    private let shards: [AnswerShard]
    /// The shards' memory as plain pointers, one per shard, so a query reaches its shard without
    /// reference counting (the shards above own the memory and outlive this table's use of it).
    private let views: UnsafeMutableBufferPointer<AnswerShard.View>
    private let shardMask: Int
    /// NODATA bodies, each kept once: a NODATA body is the zone's SOA, whose names point back at
    /// its owner at an offset set by the question's length, so it depends only on the zone and the
    /// name's length, and a few hundred serve every name (9 MB less for 50k services, and they stay
    /// in the CPU's cache). Re-encoded whole when the serial changes; their offsets stay.
    private let noData: NoDataBodies
    /// The entries of the last whole compile, while some shard still answers from it.
    private let block: EntryBlock?
    /// The ends of names entries leave out.
    private let suffixes: NameSuffixes
    /// Names held.
    public let nameCount: Int

    deinit { views.deallocate() }

    /// Whether this table's NODATA bodies took the new serial in place (`NoDataBodies.withSerial`).
    var noDataSerialsWrittenInPlace: Bool { noData.serialsWrittenInPlace }
    var noDataByteCount: Int { noData.bytes.count }

    /// Bytes held by the entries and the index.
    public var byteCount: Int {
        noData.bytes.count + (block?.bytes.count ?? 0)
            + shards.reduce(0) { $0 + ($1.block == nil ? $1.entries.count : 0) + $1.slots.count * MemoryLayout<UInt64>.size }
    }

    /// How many shards were copied to make this table from the one before (all of them for a full build).
    public let shardsCopied: Int

    /// Whether some shard still answers from the entries block of the last whole compile.
    var holdsCompileBlock: Bool { block != nil }

    static let answerHeaderSize = 12
    /// A NODATA answer in an entry: its type, 0, then where its header and body lie in `noData`.
    static let noDataReferenceSize = 6
    /// The shard comes from hash bits the slots (low bits) and tags (high 32) do not use.
    private static let shardShift: UInt64 = 20

    /// About how many names a table of `catalog` holds: a Service holds about three, and each
    /// reverse address one (walking every name to count them would cost a tenth of the compile).
    public static func estimatedNameCount(of catalog: Catalog) -> Int {
        catalog.snapshot.serviceCount * 3 + catalog.reverseIndex.targets.count
    }

    /// Compiles every name the catalog holds.
    public convenience init(catalog: Catalog) {
        self.init(catalog: catalog, stopping: { false })!
    }

    /// Compiles every name the catalog holds, unless `stopping` turns true first (it is asked
    /// every 1024 names): nil then. A compile takes seconds at 50k Services, and a server told
    /// to shut down must not wait for a table it will never use.
    public convenience init?(catalog: Catalog, stopping: () -> Bool) {
        // An estimate is enough to size the shards.
        let names = Self.estimatedNameCount(of: catalog)
        // About 256 names a shard: a shard of a few tens of KB is copied in microseconds.
        var shardCount = 16
        while shardCount < names / 256 && shardCount < 1 << 16 { shardCount *= 2 }
        let suffixes = NameSuffixes(domain: catalog.configuration.domain)
        var encoder = EntryEncoder(catalog: catalog, noData: NoDataBodies(), suffixes: suffixes)
        // Every entry is written once, back to back in the walk's order, into one mapping that the
        // shards then share (an array per entry would cost an allocation and its header for each
        // of hundreds of thousands of names). Written per shard into growing buffers and copied
        // into the shards, the entries left the heap grown around the buffers let go: 7 MiB of
        // peak RSS on 50k Services. The reservation costs nothing until a page is written.
        var bytes = PageArray<UInt8>(reserving: names * 512)
        var starts = PageArray<EntryStart>(reserving: names + 1024)
        var entry: [UInt8] = []
        var (walked, stopped) = (0, false)
        catalog.forEachHeldName { name, types, known in
            walked += 1
            if walked & 1023 == 0, !stopped { stopped = stopping() }
            guard !stopped else { return }
            let lowercased = name.inLowerCase
            entry.removeAll(keepingCapacity: true)
            guard encoder.append(lowercased, types: types, known: known, to: &entry) else { return }
            starts.append(EntryStart(hash: Self.hash(lowercased.wire), offset: bytes.count))
            entry.withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
        }
        guard !stopped else { return nil }
        let block = EntryBlock(bytes)
        let shards = AnswerShard.shards(sharing: block, starts: starts.buffer, shardCount: shardCount)
        self.init(shards: shards, noData: encoder.noData, shardsCopied: shardCount, block: block, suffixes: suffixes)
    }

    private init(shards: [AnswerShard], noData: NoDataBodies, shardsCopied: Int, block: EntryBlock?, suffixes: NameSuffixes) {
        self.shards = shards
        self.views = UnsafeMutableBufferPointer<AnswerShard.View>.allocate(capacity: shards.count)
        _ = self.views.initialize(from: shards.map(\.view))
        self.shardMask = shards.count - 1
        self.noData = noData
        self.block = block
        self.suffixes = suffixes
        self.nameCount = shards.reduce(0) { $0 + $1.count }
        self.shardsCopied = shardsCopied
    }

    /// This table with the answers of `names` compiled again from `catalog` (a name `catalog` no
    /// longer holds is removed), and every NODATA body re-encoded for its serial. Shards that hold
    /// none of the names are shared with this table, not copied.
    public func patched(catalog: Catalog, names: [DNSName: [RecordType]?]) -> AnswerTable {
        guard let noData = noData.reencoded(for: catalog) else { return AnswerTable(catalog: catalog) }
        // A new domain is a new configuration, compiled whole: the suffixes stay the table's.
        var encoder = EntryEncoder(catalog: catalog, noData: noData, suffixes: suffixes)
        var changes: [Int: [[UInt8]: (hash: UInt64, entry: [UInt8]?)]] = [:]
        for (name, types) in names {
            let lowercased = name.inLowerCase
            let wire = lowercased.wire
            let hash = Self.hash(wire)
            let entry = types.flatMap { encoder.entry(for: lowercased, types: $0) }
            changes[Self.shardIndex(hash, mask: shardMask), default: [:]][wire] = (hash, entry)
        }
        var shards = self.shards
        for (index, shardChanges) in changes {
            shards[index] = shards[index].replacing(shardChanges, suffixes: suffixes)
        }
        var copied = changes.count
        var block = self.block
        // A patched shard leaves the compile's block, which lives on while any shard answers from
        // it: once most of it is dead, the shards left move out too, an eighth of the shards a
        // patch (moved at once, they were half the table copied by one update: 15 ms at 50k
        // Services), and the block is let go with the last.
        if let shared = block {
            let live = shards.reduce(0) { $0 + ($1.block === shared ? $1.liveBytes : 0) }
            if live * 2 < shared.bytes.count {
                var budget = max(4, shards.count / 8)
                for index in shards.indices where budget > 0 && shards[index].block === shared {
                    shards[index] = shards[index].movedOut()
                    copied += 1
                    budget -= 1
                }
                if !shards.contains(where: { $0.block === shared }) { block = nil }
            }
        }
        return AnswerTable(shards: shards, noData: encoder.noData, shardsCopied: copied, block: block, suffixes: suffixes)
    }

    @inline(__always)
    fileprivate static func shardIndex(_ hash: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: hash >> shardShift) & mask
    }

    /// Writes the response to `query` into `output`; the number of bytes written, or nil when the
    /// general path must answer.
    public func answer(_ view: DNSQueryView, query: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        // Type 0 would collide with the NODATA entries' key; meta types are the catalog's to decide.
        guard view.class == DNSClass.in.rawValue, view.type != 0, !RecordType(view.type).isMeta else { return nil }
        let shard = views[Self.shardIndex(view.nameHash, mask: shardMask)]
        let entries = shard.entries
        guard let entry = shard.find(query, view, suffixes: suffixes.view) else { return nil }
        var cursor = AnswerShard.answersStart(of: entry, in: entries)
        var chosen: Int?
        var noDataAnswer: Int?
        for _ in 0..<entries[cursor - 1] {
            let type = entries.bigEndianUInt16(at: cursor)
            if type == view.type {
                chosen = cursor
                break
            }
            if type == 0 {
                noDataAnswer = cursor
                cursor += Self.noDataReferenceSize
            } else {
                cursor += Self.answerHeaderSize + Int(entries.bigEndianUInt16(at: cursor + 10))
            }
        }
        // An answer's header words follow its type: in the entry, or for NODATA in the shared bodies.
        func write(_ answer: UnsafeRawBufferPointer, at start: Int) -> Int? {
            let bodyStart = start + Self.answerHeaderSize
            return view.writeResponse(
                to: query, flags: answer.bigEndianUInt16(at: start + 2), answerCount: answer.bigEndianUInt16(at: start + 4),
                authorityCount: answer.bigEndianUInt16(at: start + 6), additionalCount: answer.bigEndianUInt16(at: start + 8),
                body: UnsafeRawBufferPointer(rebasing: answer[bodyStart..<(bodyStart + Int(answer.bigEndianUInt16(at: start + 10)))]),
                into: output)
        }
        if let chosen { return write(entries, at: chosen) }
        guard let noDataAnswer else { return nil }
        let offset = Int(entries.bigEndianUInt16(at: noDataAnswer + 2)) << 16 | Int(entries.bigEndianUInt16(at: noDataAnswer + 4))
        // The shared answer has no type before its header words.
        return noData.bytes.withUnsafeBytes { write($0, at: offset - 2) }
    }

    /// First step of fetching an answer's memory ahead of time: the index slot for `nameHash`.
    /// - Returns: a token for `prefetchEntry(token:)`.
    public func prefetchSlot(nameHash: UInt64) -> Int {
        let shardIndex = Self.shardIndex(nameHash, mask: shardMask)
        let shard = views[shardIndex]
        let index = Int(truncatingIfNeeded: nameHash) & shard.mask
        cprefetch(shard.slots.baseAddress! + index)
        return shardIndex << 32 | (index + 1)
    }

    /// Second step: the first lines of the entry that slot points at. A token from an older table
    /// only wastes the hint.
    public func prefetchEntry(token: Int) {
        let shardIndex = token >> 32
        let slotIndex = token & 0xffff_ffff
        guard token > 0, shardIndex < shards.count else { return }
        let shard = views[shardIndex]
        guard slotIndex > 0, slotIndex <= shard.slots.count else { return }
        let slot = shard.slots[slotIndex - 1]
        guard slot != 0, let base = shard.entries.baseAddress else { return }
        let entry = NameSlots.entry(of: slot)
        cprefetch(base + entry)
        if entry + 64 < shard.entries.count { cprefetch(base + entry + 64) }
    }

    /// Asks the catalog each listed type at a name and encodes the entry: the length of the name
    /// kept, which end of it is left out (`NameSuffixes`), the lower-cased wire name without that
    /// end, answer count, then per answer QTYPE (0 for the NODATA answer), flags, the three
    /// section counts, body length, and the body (the encoded sections after the question) or, for
    /// NODATA, only where those header words and body lie among the shared NODATA answers.
    struct EntryEncoder {
        let catalog: Catalog
        var noData: NoDataBodies
        let suffixes: NameSuffixes
        var scratch = ByteBufferAllocator().buffer(capacity: 4096)

        /// A type no name here owns, asked too, so every name has its NODATA answer.
        static let unownedType = RecordType(10)  // NULL

        /// The entry of `name` (lower case), or nil when it must stay on the general path: a CNAME
        /// (ExternalName, chased per question type), or a name that does not exist.
        mutating func entry(for name: DNSName, types: [RecordType]) -> [UInt8]? {
            var entry: [UInt8] = []
            return append(name, types: types, known: nil, to: &entry) ? entry : nil
        }

        /// Appends the entry of `name` (what it is `known` to be, when given) to `entries` (a shard
        /// being built, so that no array is made per name); false, with `entries` as it was, when
        /// the name stays on the general path.
        mutating func append(_ name: DNSName, types: [RecordType], known: Catalog.KnownName?, to entries: inout [UInt8]) -> Bool {
            let start = entries.count
            let wire = name.wire
            let suffix = suffixes.longest(endingOf: wire)
            let kept = wire.count - suffixes.length(of: suffix)
            entries.append(UInt8(kept))
            entries.append(suffix)
            entries.append(contentsOf: wire[..<kept])
            let countIndex = entries.count
            entries.append(0)
            var hasNoData = false
            let askedTypes = types + [Self.unownedType]
            let question = DNSQuestion(name: name, type: Self.unownedType)
            for (type, answer) in zip(askedTypes, catalog.answers(at: name, types: askedTypes, known: known)) {
                // Only plain positive and NODATA answers are copied; a CNAME (ExternalName) is chased
                // per question type, so its name stays on the general path.
                guard answer.responseCode == .noError, !answer.answers.contains(where: { $0.type == .cname }) else {
                    entries.removeSubrange(start...)
                    return false
                }
                let isNoData = answer.answers.isEmpty
                if isNoData && hasNoData { continue }
                append(answer, question: question, as: isNoData ? 0 : type.rawValue, to: &entries)
                hasNoData = hasNoData || isNoData
                entries[countIndex] += 1
            }
            return true
        }

        /// The answer's type, header words and body; for NODATA, its type and where its header and
        /// body lie in the shared bodies (6 bytes a name rather than 16: 1.6 MB of 50k Services'
        /// table). The question's type is not encoded, so one question serves every type.
        private mutating func append(_ answer: Answer, question: DNSQuestion, as key: UInt16, to entry: inout [UInt8]) {
            answer.encoded(for: question, scratch: &scratch) { encoded in
                entry.appendBigEndian(key)
                guard key == 0 else {
                    encoded.appendHeaderAndBody(to: &entry)
                    return
                }
                let offset = noData.offset(of: encoded, question: question.name)
                entry.appendBigEndian(UInt16(truncatingIfNeeded: offset >> 16))
                entry.appendBigEndian(UInt16(truncatingIfNeeded: offset))
            }
        }
    }
}

/// The NODATA answers of a table (header words and body, as an entry holds a positive answer's
/// after its type), each once, with a question that produced it so that it can be encoded again
/// for a new serial.
struct NoDataBodies: Sendable {
    private(set) var bytes: [UInt8] = []
    /// Hash of a body without its SOA serial → where the bodies with that hash lie in `bytes`: a
    /// body is looked up once per name compiled, and keying by its bytes would make an array each
    /// time. The serial is left out so that the places stay right when only the serial changes.
    private var placesByHash: [Int: [Range<Int>]] = [:]
    /// Each body's offset and the question name it was encoded for, in order (bodies are appended),
    /// and a body of each zone, once found: what `withSerial` reads at each update (sorting the
    /// offsets and finding each question's zone again was a sixtieth of an endpoint edit's work).
    private var questions: [(offset: Int, question: DNSName)] = []
    private var oneBodyPerZone: [(offset: Int, question: DNSName)]?
    /// Made from the bodies before by writing a new serial into them.
    private(set) var serialsWrittenInPlace = false

    /// The header words before a body: flags, the three section counts, the body's length.
    private static let headerWordsSize = AnswerTable.answerHeaderSize - 2
    /// A body that is one SOA record ends in its serial and four more 32-bit fields.
    private static let serialFromEnd = 20

    /// Where `answer` (header words, then body) lies in `bytes`; placed there if new.
    mutating func offset(of answer: EncodedAnswer, question: DNSName) -> Int {
        var record: [UInt8] = []
        record.reserveCapacity(Self.headerWordsSize + answer.body.count)
        answer.appendHeaderAndBody(to: &record)
        let hash = Self.hashLeavingOutSerial(record[...])
        for place in placesByHash[hash, default: []] where bytes[place].elementsEqual(record) {
            return place.lowerBound
        }
        let offset = bytes.count
        bytes.append(contentsOf: record)
        placesByHash[hash, default: []].append(offset..<bytes.count)
        questions.append((offset, question))
        oneBodyPerZone = nil
        return offset
    }

    private static func hashLeavingOutSerial(_ record: ArraySlice<UInt8>) -> Int {
        var hasher = Hasher()
        if let serial = serialRange(in: record) {
            record[..<serial.lowerBound].withUnsafeBytes { hasher.combine(bytes: $0) }
            record[serial.upperBound...].withUnsafeBytes { hasher.combine(bytes: $0) }
        } else {
            record.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
        return hasher.finalize()
    }

    /// Where the SOA serial of a record (header words, then body) lies, when its body is one
    /// authority record and nothing else, as every NODATA body of a catalog's zones is.
    private static func serialRange(in record: ArraySlice<UInt8>) -> Range<Int>? {
        let start = record.startIndex
        guard record.count >= headerWordsSize + serialFromEnd else { return nil }
        func word(_ at: Int) -> Int { Int(record[start + at]) << 8 | Int(record[start + at + 1]) }
        guard word(2) == 0, word(4) == 1, word(6) == 0, headerWordsSize + word(8) == record.count else { return nil }
        let serial = record.endIndex - serialFromEnd
        return serial..<(serial + 4)
    }

    /// Every body encoded again from `catalog` (the serial is in each), at the same offsets; nil if
    /// some body changed its length, when only a full compile can place them.
    func reencoded(for catalog: Catalog) -> NoDataBodies? {
        if let patched = withSerial(of: catalog) { return patched }
        var result = NoDataBodies()
        var scratch = ByteBufferAllocator().buffer(capacity: 512)
        for (offset, name) in questions {
            guard let answer = catalog.noDataAnswer(at: name) else { return nil }
            let placed = answer.encoded(for: DNSQuestion(name: name, type: AnswerTable.EntryEncoder.unownedType), scratch: &scratch) {
                result.offset(of: $0, question: name)
            }
            guard placed == offset else { return nil }
        }
        return result
    }

    /// The bodies with the serial of `catalog` written into their SOA records in place, when that
    /// is all that changed: nil unless, in each zone, a body encoded again whole from `catalog`
    /// equals its patched one (the SOA's other fields come from the zone's origin and the
    /// configuration, shared by every body of the zone). Re-encoding every body for each update
    /// was a sixth of the answer table's patch.
    private func withSerial(of catalog: Catalog) -> NoDataBodies? {
        var result = self
        result.serialsWrittenInPlace = true
        var places: [Int] = []
        places.reserveCapacity(questions.count)
        for (index, (start, _)) in questions.enumerated() {
            let end = index + 1 < questions.count ? questions[index + 1].offset : bytes.count
            guard let place = Self.serialRange(in: bytes[start..<end]) else { return nil }
            places.append(place.lowerBound)
        }
        let serial = catalog.snapshot.serial.bigEndian
        result.bytes.withUnsafeMutableBytes { bytes in
            for place in places { bytes.storeBytes(of: serial, toByteOffset: place, as: UInt32.self) }
        }
        // A question's zone follows from the configuration, which a patch never changes.
        let samples: [(offset: Int, question: DNSName)]
        if let known = oneBodyPerZone {
            samples = known
        } else {
            var found: [(offset: Int, question: DNSName)] = []
            var zones = Set<DNSName>()
            for (offset, name) in questions {
                guard let origin = catalog.zoneOrigin(of: name) else { return nil }
                if zones.insert(origin).inserted { found.append((offset, name)) }
            }
            samples = found
            result.oneBodyPerZone = found
        }
        var scratch = ByteBufferAllocator().buffer(capacity: 512)
        for (offset, name) in samples {
            guard let answer = catalog.noDataAnswer(at: name) else { return nil }
            let same = answer.encoded(for: DNSQuestion(name: name, type: AnswerTable.EntryEncoder.unownedType), scratch: &scratch) { encoded in
                var record: [UInt8] = []
                encoded.appendHeaderAndBody(to: &record)
                return offset + record.count <= result.bytes.count && result.bytes[offset..<(offset + record.count)].elementsEqual(record)
            }
            guard same else { return nil }
        }
        return result
    }
}

/// One shard of the compiled answers: its entries back to back and their index, in memory the
/// shard allocates and frees itself, so that queries can reach them through plain pointers.
///
/// Unchecked Sendable: immutable after init; the memory is only read until deinit.
final class AnswerShard: @unchecked Sendable {
    /// What a query needs of a shard, without reference counting.
    struct View {
        let entries: UnsafeRawBufferPointer
        let slots: UnsafeBufferPointer<UInt64>
        let mask: Int

        @inline(__always)
        func find(_ query: UnsafeRawBufferPointer, _ view: DNSQueryView, suffixes: NameSuffixes.View) -> Int? {
            let nameLength = view.nameLength
            let entries = self.entries
            return NameSlots.find(view.nameHash, in: slots) { entry in
                let kept = Int(entries[entry])
                let suffix = Int(entries[entry + 1])
                return kept + suffixes.lengths[suffix] == nameLength
                    && AnswerShard.nameMatches(query, from: 12, entries.baseAddress! + entry + 2, length: kept)
                    && AnswerShard.nameMatches(query, from: 12 + kept, suffixes.bytes + suffixes.starts[suffix], length: nameLength - kept)
            }
        }
    }

    let view: View
    /// Names held (entries marked dead are not counted).
    let count: Int
    /// Bytes of entries marked dead by patches, and the slots still pointing at them: both are
    /// reclaimed when the shard is next built whole.
    let deadBytes: Int
    let deadSlots: Int
    /// The whole compile's entries when this shard's are among them (its slots hold offsets into
    /// the block, which it shares with that compile's other shards); nil when it owns its entries.
    let block: EntryBlock?
    /// Bytes of the entries this shard answers from.
    let liveBytes: Int
    var entries: UnsafeRawBufferPointer { view.entries }
    var slots: UnsafeBufferPointer<UInt64> { view.slots }
    var mask: Int { view.mask }

    /// Entries back to back and where each starts, before the index is made: a patched shard built whole.
    struct Builder {
        var entries: [UInt8] = []
        var starts: [(hash: UInt64, offset: Int)] = []

        mutating func append(hash: UInt64, entry: some Collection<UInt8>) {
            starts.append((hash, entries.count))
            entries.append(contentsOf: entry)
        }
    }

    init(_ builder: Builder) {
        let slots = Self.emptySlots(for: builder.starts.count)
        for (hash, offset) in builder.starts { Self.place(hash, offset: offset, in: slots) }
        let entries = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, builder.entries.count), alignment: 8)
        builder.entries.withUnsafeBytes { entries.copyMemory(from: $0) }
        view = View(entries: UnsafeRawBufferPointer(rebasing: entries[0..<builder.entries.count]), slots: UnsafeBufferPointer(slots), mask: slots.count - 1)
        count = builder.starts.count
        deadBytes = 0
        deadSlots = 0
        block = nil
        liveBytes = builder.entries.count
    }

    private init(entries: UnsafeMutableRawBufferPointer, slots: UnsafeMutableBufferPointer<UInt64>, count: Int, deadBytes: Int, deadSlots: Int) {
        view = View(entries: UnsafeRawBufferPointer(entries), slots: UnsafeBufferPointer(slots), mask: slots.count - 1)
        self.count = count
        self.deadBytes = deadBytes
        self.deadSlots = deadSlots
        block = nil
        liveBytes = entries.count - deadBytes
    }

    private init(block: EntryBlock, slots: UnsafeMutableBufferPointer<UInt64>, count: Int, liveBytes: Int) {
        view = View(entries: block.bytes, slots: UnsafeBufferPointer(slots), mask: slots.count - 1)
        self.count = count
        deadBytes = 0
        deadSlots = 0
        self.block = block
        self.liveBytes = liveBytes
    }

    deinit {
        if block == nil { UnsafeMutableRawPointer(mutating: view.entries.baseAddress)?.deallocate() }
        UnsafeMutablePointer(mutating: view.slots.baseAddress)?.deallocate()
    }

    /// The shards of a whole compile, which wrote its entries to `block` in the order of `starts`:
    /// each shard indexes the entries its hashes choose, where they lie in the block.
    static func shards(sharing block: EntryBlock, starts: UnsafeBufferPointer<EntryStart>, shardCount: Int) -> [AnswerShard] {
        let mask = shardCount - 1
        var counts = [Int](repeating: 0, count: shardCount)
        var liveBytes = [Int](repeating: 0, count: shardCount)
        for (index, start) in starts.enumerated() {
            let shard = AnswerTable.shardIndex(start.hash, mask: mask)
            let end = index + 1 < starts.count ? starts[index + 1].offset : block.bytes.count
            counts[shard] += 1
            liveBytes[shard] += end - start.offset
        }
        let slots = counts.map { emptySlots(for: $0) }
        for start in starts { place(start.hash, offset: start.offset, in: slots[AnswerTable.shardIndex(start.hash, mask: mask)]) }
        return (0..<shardCount).map { AnswerShard(block: block, slots: slots[$0], count: counts[$0], liveBytes: liveBytes[$0]) }
    }

    /// Room for `count` names, at most three quarters full: a slot is compared by its tag before
    /// any entry is read, so a fuller index costs a query a few more compares in the same cache
    /// lines; kept at most half full, the index took 4.2 of the 28 MB table of 50k Services.
    private static func emptySlots(for count: Int) -> UnsafeMutableBufferPointer<UInt64> {
        var size = 16
        while size * 3 < count * 4 { size *= 2 }
        let slots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: size)
        slots.initialize(repeating: 0)
        return slots
    }

    /// This shard with its entries copied out of the compile's block into memory of its own. Each
    /// slot keeps its place and tag and points at the copy: no name is hashed again.
    func movedOut() -> AnswerShard {
        guard block != nil else { return self }
        let newEntries = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, liveBytes), alignment: 8)
        let newSlots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: slots.count)
        var end = 0
        for (index, slot) in slots.enumerated() {
            guard slot != 0 else {
                newSlots[index] = 0
                continue
            }
            let start = NameSlots.entry(of: slot)
            let length = Self.entryLength(at: start, in: entries)
            UnsafeMutableRawBufferPointer(rebasing: newEntries[end..<(end + length)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: entries[start..<(start + length)]))
            newSlots[index] = NameSlots.slot(hash: slot, entry: end)
            end += length
        }
        return AnswerShard(entries: UnsafeMutableRawBufferPointer(rebasing: newEntries[0..<end]), slots: newSlots, count: count, deadBytes: 0, deadSlots: 0)
    }

    /// A copy with the entries of the changed names replaced (nil: removed) and new ones added.
    ///
    /// The copy is the old memory copied whole, a replaced entry marked dead where it lies (its
    /// suffix byte set to `NameSuffixes.dead`, which no name matches, so its slot can never match
    /// again) and each new entry appended with a slot of its own: no name is hashed or moved.
    /// Rebuilding the shard name by name instead, hashing each kept name again, was a third of the registry thread's time
    /// under sustained endpoint churn. The shard is built whole again once dead entries would make
    /// up a third of its bytes or its slots would be more than four fifths full.
    func replacing(_ changes: [[UInt8]: (hash: UInt64, entry: [UInt8]?)], suffixes: NameSuffixes) -> AnswerShard {
        // Entries in a compile's block are not this shard's alone to copy whole and append to.
        guard block == nil else { return movedOut().replacing(changes, suffixes: suffixes) }
        let added = changes.values.reduce(into: (count: 0, bytes: 0)) { sum, change in
            if let entry = change.entry { sum = (sum.count + 1, sum.bytes + entry.count) }
        }
        let usedSlots = count + deadSlots + added.count
        // About what will be dead after this patch: a replaced entry is about as long as its replacement.
        let deadAfter = deadBytes + added.bytes
        guard usedSlots * 5 <= slots.count * 4, deadAfter * 3 <= entries.count + added.bytes else {
            return rebuilt(changes, suffixes: suffixes)
        }
        let newEntries = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, entries.count + added.bytes), alignment: 8)
        newEntries.copyMemory(from: entries)
        let newSlots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: slots.count)
        _ = newSlots.initialize(from: slots)
        var count = self.count
        var deadBytes = self.deadBytes
        var deadSlots = self.deadSlots
        for (wire, change) in changes {
            let found = wire.withUnsafeBytes { name in
                NameSlots.find(change.hash, in: UnsafeBufferPointer(newSlots)) { entry in
                    Self.entry(at: entry, in: UnsafeRawBufferPointer(newEntries), isFor: name, suffixes: suffixes)
                }
            }
            if let found {
                deadBytes += Self.entryLength(at: found, in: UnsafeRawBufferPointer(newEntries))
                newEntries[found + 1] = NameSuffixes.dead
                deadSlots += 1
                count -= 1
            }
        }
        var end = entries.count
        for change in changes.values {
            guard let entry = change.entry else { continue }
            entry.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: newEntries[end...]).copyMemory(from: $0) }
            Self.place(change.hash, offset: end, in: newSlots)
            end += entry.count
            count += 1
        }
        return AnswerShard(
            entries: UnsafeMutableRawBufferPointer(rebasing: newEntries[0..<end]), slots: newSlots,
            count: count, deadBytes: deadBytes, deadSlots: deadSlots)
    }

    /// The shard built whole from its live entries and the changes: dead entries and their slots dropped.
    private func rebuilt(_ changes: [[UInt8]: (hash: UInt64, entry: [UInt8]?)], suffixes: NameSuffixes) -> AnswerShard {
        var builder = Builder()
        builder.entries.reserveCapacity(liveBytes + changes.values.reduce(0) { $0 + ($1.entry?.count ?? 0) })
        // A shard holds a few changed names among hundreds: each kept name is hashed in place and
        // its hash looked for in this short list, with no array or dictionary lookup per name.
        let changed = changes.map { (hash: $0.value.hash, wire: $0.key) }
        for slot in slots where slot != 0 {
            let start = NameSlots.entry(of: slot)
            guard entries[start + 1] != NameSuffixes.dead else { continue }
            let kept = UnsafeRawBufferPointer(rebasing: entries[(start + 2)..<(start + 2 + Int(entries[start]))])
            let suffix = suffixes.wire(of: entries[start + 1])
            let hash = AnswerTable.hash(kept, then: suffix)
            guard !changed.contains(where: { $0.hash == hash && $0.wire.elementsEqual(kept + suffix) }) else { continue }
            builder.append(hash: hash, entry: entries[start..<(start + Self.entryLength(at: start, in: entries))])
        }
        for (_, change) in changes {
            if let entry = change.entry { builder.append(hash: change.hash, entry: entry) }
        }
        return AnswerShard(builder)
    }

    /// The length of the entry at `start`: the kept name's length, its suffix, the kept name, the
    /// answer count, then each answer's type, header and body (a NODATA answer's type and offset).
    static func entryLength(at start: Int, in entries: UnsafeRawBufferPointer) -> Int {
        var cursor = start + 2 + Int(entries[start])
        let answers = Int(entries[cursor])
        cursor += 1
        for _ in 0..<answers {
            if entries[cursor] == 0 && entries[cursor + 1] == 0 {
                cursor += AnswerTable.noDataReferenceSize
            } else {
                cursor += AnswerTable.answerHeaderSize + (Int(entries[cursor + 10]) << 8 | Int(entries[cursor + 11]))
            }
        }
        return cursor - start
    }

    private static func place(_ hash: UInt64, offset: Int, in slots: UnsafeMutableBufferPointer<UInt64>) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index] != 0 { index = (index + 1) & mask }
        slots[index] = NameSlots.slot(hash: hash, entry: offset)
    }

    /// Whether the query's name bytes from `start` are, in lower case, the `length` bytes at `stored`.
    @inline(__always)
    static func nameMatches(_ query: UnsafeRawBufferPointer, from start: Int, _ stored: UnsafeRawPointer, length: Int) -> Bool {
        for index in 0..<length where stored.load(fromByteOffset: index, as: UInt8.self) != DNSName.asciiLowercased(query[start + index]) {
            return false
        }
        return true
    }

    /// Where the answers of the entry at `entry` start: after the kept name's length, its suffix, the kept name and the answer count.
    @inline(__always)
    static func answersStart(of entry: Int, in entries: UnsafeRawBufferPointer) -> Int {
        entry + 2 + Int(entries[entry]) + 1
    }

    /// Whether the entry at `entry` is for the lower-case wire name `wire`.
    static func entry(at entry: Int, in entries: UnsafeRawBufferPointer, isFor wire: UnsafeRawBufferPointer, suffixes: NameSuffixes) -> Bool {
        let kept = Int(entries[entry])
        let suffix = entries[entry + 1]
        guard kept + suffixes.length(of: suffix) == wire.count else { return false }
        return wire[..<kept].elementsEqual(entries[(entry + 2)..<(entry + 2 + kept)]) && suffixes.ends(wire, with: suffix)
    }
}

extension AnswerTable {
    /// The hash a query's view takes of its lower-case wire name (`NameHasher`), of `bytes` and
    /// then `suffix`: an entry keeps its name in those two parts.
    static func hash(_ bytes: some Sequence<UInt8>, then suffix: [UInt8] = []) -> UInt64 {
        var hasher = NameHasher()
        for byte in bytes { hasher.add(byte) }
        for byte in suffix { hasher.add(byte) }
        return hasher.value
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

/// Where a whole compile wrote a name's entry: the name's hash chooses its shard.
struct EntryStart: BitwiseCopyable {
    let hash: UInt64
    let offset: Int
}

/// The entries of one whole compile, back to back in a mapping of their own, shared by the shards
/// that compile made until each is patched out of it.
final class EntryBlock: @unchecked Sendable {
    private let storage: PageArray<UInt8>
    let bytes: UnsafeRawBufferPointer

    init(_ storage: consuming PageArray<UInt8>) {
        bytes = UnsafeRawBufferPointer(storage.buffer)
        self.storage = storage
    }
}

extension EncodedAnswer {
    /// Flags, the three counts and the body's length, then the body: an answer as the table keeps it after its type.
    func appendHeaderAndBody(to bytes: inout [UInt8]) {
        for word in [flags, answerCount, authorityCount, additionalCount, UInt16(body.count)] { bytes.appendBigEndian(word) }
        bytes.append(contentsOf: body)
    }
}

extension [UInt8] {
    mutating func appendBigEndian(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }
}
