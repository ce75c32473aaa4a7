/// What `ManifestSource` remembers of each file, and how a new read of it is compared with that.
extension ManifestSource {
    /// One file as last read.
    struct FileRecord: Hashable, Sendable {
        var stamp: FileStamp
        var contentHash: Int
        /// Its documents as last read, so the next read parses only the changed ones. A JSON file,
        /// read whole, is one document.
        private(set) var documents = DocumentList()
        /// Objects whose new version was rejected, keeping their last good version.
        private(set) var kept: Set<RegistryObjectKey> = []
        /// How many objects the file defines.
        private(set) var objectCount = 0
        /// ClusterIPs its rejected Services name (`DecodedFile.reservedAddresses`).
        private(set) var reserved: Set<IPAddress> = []
        /// Some object is defined in two of its documents. Which one is served then depends on their
        /// order, which a comparison of changed documents does not see: the file is read whole.
        private(set) var definesAnObjectTwice = false

        init(stamp: FileStamp, contentHash: Int, reading: FileReading, kept: Set<RegistryObjectKey>, objectCount: Int) {
            self.stamp = stamp
            self.contentHash = contentHash
            self.documents = reading.documents
            self.kept = kept
            self.objectCount = objectCount
            self.reserved = documents.reserved
            self.definesAnObjectTwice = reading.definesAnObjectTwice
        }

        private init(stamp: FileStamp, contentHash: Int) {
            self.stamp = stamp
            self.contentHash = contentHash
        }

        /// What `previous` held, under a new stamp and content hash: for a file that changed on disk
        /// but keeps what it held (the same content, or a broken one). Nothing when there was none.
        static func keeping(_ previous: FileRecord?, stamp: FileStamp, contentHash: Int) -> FileRecord {
            guard var record = previous else { return FileRecord(stamp: stamp, contentHash: contentHash) }
            record.stamp = stamp
            record.contentHash = contentHash
            return record
        }

        /// Where `key` sits in the file now: its document's first line and its place in it, or nil
        /// when no document defines it (a kept last good version, which is where it was read).
        func location(of key: RegistryObjectKey, path: String) -> SourceLocation? {
            var location: SourceLocation?
            documents.forEach { index, document in
                guard location == nil else { return }
                var offset: Int32?
                document.forEachObject { object in
                    if offset == nil, object.key == key { offset = object.lineOffset }
                }
                if let offset { location = SourceLocation(file: path, line: offset < 0 ? nil : documents.firstLines[index] + Int(offset)) }
            }
            return location
        }

        /// Every object the file defines (including kept last good versions). Made on demand: a
        /// set per file would hold every key of the registry a second time.
        var keys: Set<RegistryObjectKey> {
            var keys = kept
            documents.forEach { _, document in document.forEachKey { keys.insert($0) } }
            return keys
        }
    }

    /// One document of a file as last read: what it defines (its text's hash and where it starts
    /// are its list's, `DocumentList.hashes` and `firstLines`).
    /// Nearly every YAML document defines one object, kept inline: a record per document of a large
    /// registry must not cost allocations of its own.
    struct DocumentRecord: Hashable, Sendable {
        struct Object: Hashable, Sendable {
            var key: RegistryObjectKey
            /// The object's line counted from the document's first line; -1: unknown.
            var lineOffset: Int32

            /// `object` in the document that starts at line `firstLine` of the file.
            init(_ object: RegistryObject, documentFirstLine firstLine: Int) {
                key = object.key
                lineOffset = Int32(clamping: object.location.line.map { $0 - firstLine } ?? -1)
            }

            init(key: RegistryObjectKey, lineOffset: Int32) {
                self.key = key
                self.lineOffset = lineOffset
            }
        }

        /// An object of a kind DNS reads, its kind a byte instead of a string: 40 bytes rather than
        /// 56, for each of the million objects a large registry's records hold.
        private struct Compact: Hashable, Sendable {
            enum Kind: UInt8, CaseIterable {
                case service, endpointSlice, endpoints, pod, namespace

                var text: String {
                    switch self {
                    case .service: "Service"
                    case .endpointSlice: "EndpointSlice"
                    case .endpoints: "Endpoints"
                    case .pod: "Pod"
                    case .namespace: "Namespace"
                    }
                }

                init?(_ text: String) {
                    guard let kind = Self.allCases.first(where: { $0.text == text }) else { return nil }
                    self = kind
                }
            }

            var name: ObjectKey
            var lineOffset: Int32
            var kind: Kind
            /// `KeySetFilter.bit(of:)` of its key, in what would be padding: a search for a few
            /// keys among a file's thousands reads no name that cannot match.
            var filterBit: UInt8

            init?(_ object: Object) {
                guard let kind = Kind(object.key.kind) else { return nil }
                name = object.key.key
                lineOffset = object.lineOffset
                self.kind = kind
                filterBit = KeySetFilter.bit(of: object.key)
            }

            var object: Object { Object(key: RegistryObjectKey(kind: kind.text, key: name), lineOffset: lineOffset) }
        }

        /// The bytes each object of a kind DNS reads takes (for a test: 40, its filter bit in padding).
        static var compactObjectStride: Int { MemoryLayout<Compact>.stride }

        private var first: Compact?
        /// The rest, in runs of at most `runLength`: a streamed List's one record takes every object
        /// of the file, and one array of them was copied whole each time it grew (old and new both
        /// held: 108 MB of a million-object load's peak, for a list of 48 MB).
        private var more: [[Compact]] = []
        private static var runLength: Int { 4096 }
        /// Objects of the kinds DNS skips, kept for the namespaces they make exist.
        private var otherKinds: [Object] = []
        var rejected: [RegistryObjectKey] = []
        var reserved: Set<IPAddress> = []

        init(objects: [Object] = [], rejected: [RegistryObjectKey] = [], reserved: Set<IPAddress> = []) {
            self.rejected = rejected
            self.reserved = reserved
            for object in objects { append(object) }
        }

        mutating func append(_ object: Object) {
            guard let compact = Compact(object) else {
                otherKinds.append(object)
                return
            }
            guard first != nil else {
                first = compact
                return
            }
            if more.isEmpty || more[more.count - 1].count == Self.runLength { more.append([]) }
            // Grown by a quarter, not doubled: a document's unused room is kept with its record.
            let last = more.count - 1
            let count = more[last].count
            if count == more[last].capacity { more[last].reserveCapacity(min(Self.runLength, count + max(count / 4, 16))) }
            more[last].append(compact)
        }

        var holdsObjects: Bool { first != nil || !otherKinds.isEmpty }

        /// What a pass over every document of a file needs to know of one without reading its
        /// record (`DocumentList`): its first object's filter bit, and whether it holds more objects,
        /// rejected some, or reserves addresses.
        struct Summary: Hashable, Sendable {
            private var bits: UInt16 = 0
            private static var holdsFirst: UInt16 { 0x100 }
            private static var holdsMore: UInt16 { 0x200 }
            private static var rejects: UInt16 { 0x400 }
            private static var reserves: UInt16 { 0x800 }

            fileprivate init(_ record: DocumentRecord) {
                if let first = record.first { bits = Self.holdsFirst | UInt16(first.filterBit) }
                if !record.more.isEmpty || !record.otherKinds.isEmpty { bits |= Self.holdsMore }
                if !record.rejected.isEmpty { bits |= Self.rejects }
                if !record.reserved.isEmpty { bits |= Self.reserves }
            }

            /// Whether the document may define a key of `filter`: false only when it cannot.
            func mayDefineKeys(of filter: KeySetFilter) -> Bool {
                bits & Self.holdsMore != 0 || (bits & Self.holdsFirst != 0 && filter.mayContain(bit: UInt8(truncatingIfNeeded: bits)))
            }

            var rejectsObjects: Bool { bits & Self.rejects != 0 }
            var reservesAddresses: Bool { bits & Self.reserves != 0 }
        }

        var summary: Summary { Summary(self) }

        var objects: [Object] {
            var objects: [Object] = []
            forEachObject { objects.append($0) }
            return objects
        }

        /// Its list of objects keeps room for more than a few more.
        var hasRoomToSpare: Bool {
            guard let last = more.last else { return false }
            return last.capacity > last.count + last.count / 16 + 4
        }

        /// Keeps no room for more objects than it holds.
        mutating func trim() {
            guard !more.isEmpty else { return }
            more[more.count - 1] = more[more.count - 1].withUnsafeBufferPointer { Array($0) }
        }

        func forEachKey(_ body: (RegistryObjectKey) -> Void) {
            forEachObject { body($0.key) }
        }

        /// Each key `filter` holds: the others are passed over by their filter bit, unread.
        func forEachKey(in filter: KeySetFilter, _ body: (RegistryObjectKey) -> Void) {
            func visit(_ compact: Compact) {
                guard filter.mayContain(bit: compact.filterBit) else { return }
                let key = compact.object.key
                if filter.contains(key) { body(key) }
            }
            if let first { visit(first) }
            for run in more {
                for compact in run { visit(compact) }
            }
            for object in otherKinds where filter.contains(object.key) { body(object.key) }
        }

        func forEachObject(_ body: (Object) -> Void) {
            if let first { body(first.object) }
            for run in more {
                for object in run { body(object.object) }
            }
            for object in otherKinds { body(object) }
        }
    }

    /// One file read: the objects parsed now (from its changed documents only), its documents, and
    /// which of them are new.
    struct FileReading: Sendable {
        var decoded: DecodedFile
        var documents = DocumentList()
        /// Indices in `documents` of the documents parsed now; the others were held unchanged.
        var parsed: [Int] = []
        /// The previous read's documents that are gone or changed.
        var replaced: [DocumentRecord] = []
        /// The file's last document was parsed now and has errors: the mark a write cut short leaves.
        var endsInError = false
        var definesAnObjectTwice = false
    }

    /// How a file's objects changed between two reads. Worked out from the changed documents only:
    /// a one-object edit of a file of a thousand objects looks at a few keys, not a thousand (the
    /// key sets built per read were a quarter of the watcher's CPU per edit).
    struct KeyChange {
        var lost: Set<RegistryObjectKey> = []
        var gained: Set<RegistryObjectKey> = []
        /// Objects whose new version was rejected and that keep their last good one.
        var kept: Set<RegistryObjectKey> = []
        /// Objects the file held and no longer names at all, not even as rejected: what a write cut
        /// short loses.
        var vanished: Set<RegistryObjectKey> = []
        var objectCount = 0
    }

    /// Compares `reading` with `previous`: an object is held before if a replaced document or an
    /// unchanged one defined it (or it was kept), and after if a parsed or unchanged document
    /// defines it, or it is rejected now but was held before (it keeps its last good version).
    static func keyChange(from previous: FileRecord?, to reading: FileReading) -> KeyChange {
        var replacedKeys = Set<RegistryObjectKey>()
        for document in reading.replaced { document.forEachKey { replacedKeys.insert($0) } }
        var parsedKeys = Set<RegistryObjectKey>()
        var parsedRejected = Set<RegistryObjectKey>()
        for index in reading.parsed {
            reading.documents.withRecord(at: index) { document in
                document.forEachKey { parsedKeys.insert($0) }
                parsedRejected.formUnion(document.rejected)
            }
        }
        let previouslyKept = previous?.kept ?? []
        let candidates = replacedKeys.union(parsedKeys).union(parsedRejected).union(previouslyKept)
        guard !candidates.isEmpty else {
            return KeyChange(kept: previouslyKept, objectCount: previous?.objectCount ?? 0)
        }
        // The unchanged documents, looked at only for the candidates.
        var inUnchanged = Set<RegistryObjectKey>()
        var rejectedInUnchanged = Set<RegistryObjectKey>()
        var isParsed = [Bool](repeating: false, count: reading.documents.count)
        for index in reading.parsed { isParsed[index] = true }
        let filter = KeySetFilter(candidates)
        reading.documents.forEachDocument(mayDefineKeysOf: filter) { index in
            guard !isParsed[index] else { return }
            reading.documents.withRecord(at: index) { $0.forEachKey(in: filter) { inUnchanged.insert($0) } }
        }
        reading.documents.forEachDocumentRejectingObjects { index in
            guard !isParsed[index] else { return }
            reading.documents.withRecord(at: index) { document in
                for key in document.rejected where filter.contains(key) { rejectedInUnchanged.insert(key) }
            }
        }
        var change = KeyChange(objectCount: previous?.objectCount ?? 0)
        for key in candidates {
            let before = replacedKeys.contains(key) || inUnchanged.contains(key) || previouslyKept.contains(key)
            let defined = parsedKeys.contains(key) || inUnchanged.contains(key)
            let rejected = parsedRejected.contains(key) || rejectedInUnchanged.contains(key)
            let keptNow = !defined && rejected && before
            let after = defined || keptNow
            if keptNow { change.kept.insert(key) }
            if before && !after {
                change.lost.insert(key)
                if !rejected { change.vanished.insert(key) }
            }
            if after && !before { change.gained.insert(key) }
        }
        change.objectCount += change.gained.count - change.lost.count
        return change
    }

    /// Reads a file's content, parsing only the YAML documents `previous` did not already hold.
    static func decode(_ file: ManifestFile, previous: FileRecord?) -> FileReading {
        guard case .success(let text) = file.contents, !file.streamsFromDisk, !ManifestParser.isJSONFile(file.path) else {
            return wholeFileReading(DecodedFile(file), documents: [], previous: previous)
        }
        return decode(YAMLDocuments(text), path: file.path, previous: previous)
    }

    /// Reads a YAML file cut into its documents, parsing only those `previous` did not already hold.
    static func decode(_ split: YAMLDocuments, path: String, previous: FileRecord?) -> FileReading {
        if previous?.definesAnObjectTwice == true {
            return wholeFileReading(split.decodedWhole(path: path), documents: split.documents, previous: previous)
        }
        let previousDocuments = previous?.documents ?? DocumentList()
        var previousByHash = DocumentsByHash(previousDocuments.hashes)
        // Most documents new (a first read, a file rewritten): one parse of the whole file costs far
        // less than a parse per document, and its objects are sorted into the documents by line.
        let unknown = split.documents.count { !previousByHash.holds($0.hash) }
        if unknown > 8 && unknown * 2 > split.documents.count {
            return wholeFileReading(split.decodedWhole(path: path), documents: split.documents, previous: previous)
        }
        var reading = FileReading(decoded: DecodedFile(ManifestFile(path: path, contents: .success(""))))
        // Each document: the previous one with its hash (its objects now maybe a few lines lower
        // or higher, which `FileRecord.location(of:)` follows), or parsed now.
        var sources: [Int?] = []
        sources.reserveCapacity(split.documents.count)
        var parsedRecords: [DocumentRecord] = []
        var reusedPrevious = [Bool](repeating: false, count: previousDocuments.count)
        for document in split.documents {
            if let previousIndex = previousByHash.take(document.hash) {
                reusedPrevious[previousIndex] = true
                sources.append(previousIndex)
                reading.endsInError = false
                continue
            }
            let decoded = split.decoded(document, path: path)
            let objects = decoded.allObjects
            reading.parsed.append(sources.count)
            sources.append(nil)
            parsedRecords.append(DocumentRecord(
                objects: objects.map { DocumentRecord.Object($0, documentFirstLine: document.firstLine) },
                rejected: decoded.rejected.map { RegistryObjectKey($0.reference) }, reserved: decoded.reservedAddresses))
            reading.decoded.errors += decoded.errors
            reading.decoded.skipped += decoded.skipped
            reading.decoded.rejected += decoded.rejected
            reading.decoded.objects += decoded.objects
            reading.decoded.isBroken = reading.decoded.isBroken || decoded.isBroken
            reading.endsInError = decoded.errors.contains(where: \.meansCutShort)
        }
        reading.documents = DocumentList(
            reusing: previousDocuments, sources: sources, parsed: parsedRecords, firstLines: split.documents.map(\.firstLine),
            hashes: split.documents.map(\.hash))
        for index in reusedPrevious.indices where !reusedPrevious[index] {
            previousDocuments.withRecord(at: index) { reading.replaced.append(copy $0) }
        }
        dropDuplicates(in: &reading)
        return reading
    }

    /// An object parsed now that an earlier document of the file defines too is a duplicate: the
    /// first one stays. Only the parsed objects' keys are looked for.
    private static func dropDuplicates(in reading: inout FileReading) {
        guard !reading.parsed.isEmpty else { return }
        var parsedKeys = Set<RegistryObjectKey>()
        for index in reading.parsed { reading.documents.withRecord(at: index) { $0.forEachKey { parsedKeys.insert($0) } } }
        var firstDocument: [RegistryObjectKey: Int] = [:]
        let filter = KeySetFilter(parsedKeys)
        var definesAnObjectTwice = false
        reading.documents.forEachDocument(mayDefineKeysOf: filter) { index in
            reading.documents.withRecord(at: index) { document in
                document.forEachKey(in: filter) { key in
                    if firstDocument[key] == nil { firstDocument[key] = index } else { definesAnObjectTwice = true }
                }
            }
        }
        if definesAnObjectTwice { reading.definesAnObjectTwice = true }
        let firstLines = reading.documents.firstLines
        // (Two objects under one key within a document: its decoder kept the first and reported the other.)
        reading.decoded.objects.removeAll { object in
            let key = object.key
            let index = documentIndex(holding: object.location.line, firstLines: firstLines)
            guard let first = firstDocument[key], first < index else { return false }
            reading.decoded.errors.append(RegistryError(
                code: .duplicateObject, reason: "defined twice in this file (each kind/namespace/name may appear once)",
                location: object.location, object: object.reference))
            return true
        }
    }

    /// The document holding `line`: the last one starting at or before it.
    private static func documentIndex(holding line: Int?, firstLines: [Int]) -> Int {
        guard let line else { return 0 }
        var low = 0
        var high = firstLines.count
        while low < high {
            let middle = (low + high) / 2
            if firstLines[middle] <= line { low = middle + 1 } else { high = middle }
        }
        return max(0, low - 1)
    }

    /// A streamed JSON file (`StreamedJSONFile`): `streamed` records the objects handed to the
    /// store as it was decoded, `rest` is what was left.
    static func streamedReading(_ rest: DecodedFile, streamed: DocumentRecord) -> FileReading {
        var reading = wholeFileReading(rest, documents: [], previous: nil)
        var record = streamed
        if !reading.documents.isEmpty {
            reading.documents.withRecord(at: 0) { left in
                left.forEachObject { record.append($0) }
                record.rejected = left.rejected
                record.reserved = left.reserved
            }
        }
        guard record.holdsObjects || !record.rejected.isEmpty else { return reading }
        reading.documents = DocumentList([record], firstLines: [1], hashes: [0])
        reading.parsed = [0]
        return reading
    }

    /// A file decoded in one parse, its documents recorded from the objects' lines (a JSON file, or
    /// one that cannot be read, is one document).
    static func wholeFileReading(_ decoded: DecodedFile, documents: [YAMLDocuments.Document], previous: FileRecord?) -> FileReading {
        var firstLines = documents.map(\.firstLine)
        var hashes = documents.map(\.hash)
        var records = documents.indices.map { DocumentRecord(reserved: $0 == 0 ? decoded.reservedAddresses : []) }
        if records.isEmpty && !(decoded.allObjects.isEmpty && decoded.rejected.isEmpty) {
            // (Its hash is never compared: such a file is always read whole.)
            records = [DocumentRecord(reserved: decoded.reservedAddresses)]
            firstLines = [1]
            hashes = [0]
        }
        for object in decoded.allObjects {
            let index = documentIndex(holding: object.location.line, firstLines: firstLines)
            records[index].append(DocumentRecord.Object(object, documentFirstLine: firstLines[index]))
        }
        for rejected in decoded.rejected {
            records[documentIndex(holding: rejected.location.line, firstLines: firstLines)].rejected.append(RegistryObjectKey(rejected.reference))
        }
        // Only a YAML file is known to be cut short by an error in its last document.
        let lastDocument = documents.count - 1
        let endsInError = decoded.errors.contains {
            $0.meansCutShort && $0.location?.line != nil && documentIndex(holding: $0.location?.line, firstLines: firstLines) == lastDocument
        }
        var replaced: [DocumentRecord] = []
        previous?.documents.forEach { _, document in replaced.append(copy document) }
        return FileReading(
            decoded: decoded, documents: DocumentList(records, firstLines: firstLines, hashes: hashes), parsed: Array(records.indices), replaced: replaced,
            endsInError: endsInError, definesAnObjectTwice: decoded.errors.contains { $0.code == .duplicateObject })
    }
}

/// A file's previous documents by their hash, each taken once, the last of a hash first. Its own
/// open-addressed table: the hashes are `ContentHash` values, mixed already, so their low bits
/// index it; a `Dictionary` hashed each again with SipHash (with the deletions, 4 % of a rename's
/// work in the churn benchmark).
struct DocumentsByHash {
    private var hashes: [Int]
    /// The index of the last untaken document of the slot's hash; -1 when all are taken, -2: empty.
    private var heads: [Int32]
    /// For each document, the one before it with the same hash (-1: none).
    private var earlier: [Int32]
    private let mask: Int

    /// The table of a file's previous documents, given by their hashes in order.
    init(_ documentHashes: [Int]) {
        var size = 16
        while size < documentHashes.count * 2 { size *= 2 }
        mask = size - 1
        hashes = [Int](repeating: 0, count: size)
        heads = [Int32](repeating: -2, count: size)
        earlier = [Int32](repeating: -1, count: documentHashes.count)
        for (index, hash) in documentHashes.enumerated() {
            let slot = self.slot(of: hash)
            if heads[slot] >= 0 { earlier[index] = heads[slot] }
            hashes[slot] = hash
            heads[slot] = Int32(index)
        }
    }

    /// The slot holding `hash`, or the empty one where it would go.
    private func slot(of hash: Int) -> Int {
        var slot = hash & mask
        while heads[slot] != -2 && hashes[slot] != hash { slot = (slot + 1) & mask }
        return slot
    }

    func holds(_ hash: Int) -> Bool { heads[slot(of: hash)] >= 0 }

    /// The last untaken document with `hash`, now taken.
    mutating func take(_ hash: Int) -> Int? {
        let slot = slot(of: hash)
        let head = heads[slot]
        guard head >= 0 else { return nil }
        heads[slot] = earlier[Int(head)]
        return Int(head)
    }
}

private extension RegistryError {
    /// An error a document cut off in the middle of an object shows; an object defined twice is
    /// whole, whatever else is wrong with it.
    var meansCutShort: Bool { !isWarning && code != .duplicateObject }
}
