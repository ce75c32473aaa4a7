extension ManifestSource {
    /// A file's document records in file order, with the line each document starts on.
    ///
    /// Kept in chunks of `chunkLength` records, which the next reading of the file shares whole
    /// when it holds the same documents at the same places. Copying a record retains its objects'
    /// names, a cache miss each: copying every record of a thousand-document file into each new
    /// reading, and releasing the old ones, was a tenth of the registry thread's work for an
    /// endpoint edit. The first lines are kept apart, as plain numbers, because an edit that adds
    /// lines moves every document after it.
    ///
    /// What the passes over every document need (its hash, and whether it may define a key looked
    /// for) is kept beside the records as plain numbers too: reaching a record copies it.
    struct DocumentList: Hashable, Sendable {
        static var chunkLength: Int { 16 }

        private var chunks: [[DocumentRecord]] = []
        /// The line each document starts on, 1-based.
        private(set) var firstLines: [Int] = []
        /// Each document's content hash.
        private(set) var hashes: [Int] = []
        /// Each document's `DocumentRecord.Summary`.
        private var summaries: [DocumentRecord.Summary] = []

        var count: Int { firstLines.count }
        var isEmpty: Bool { firstLines.isEmpty }

        init() {}

        /// Records made now, in order.
        init(_ records: [DocumentRecord], firstLines: [Int], hashes: [Int]) {
            precondition(records.count == firstLines.count && records.count == hashes.count)
            self.firstLines = firstLines
            self.hashes = hashes
            var chunk: [DocumentRecord] = []
            for index in records.indices {
                summaries.append(records[index].summary)
                chunk.append(Self.trimmed(records[index]))
                if chunk.count == Self.chunkLength || index == records.count - 1 {
                    chunks.append(chunk)
                    chunk = []
                }
            }
        }

        /// A new reading of a file whose previous reading was `previous`: document `index` is
        /// `previous`'s document `sources[index]`, or when that is nil the next of `parsed`. A
        /// chunk whose every document is `previous`'s at the same place is shared, not copied.
        init(reusing previous: DocumentList, sources: [Int?], parsed: [DocumentRecord], firstLines: [Int], hashes: [Int]) {
            precondition(sources.count == firstLines.count && sources.count == hashes.count)
            self.firstLines = firstLines
            self.hashes = hashes
            summaries.reserveCapacity(sources.count)
            var nextParsed = 0
            for source in sources {
                if let source {
                    summaries.append(previous.summaries[source])
                } else {
                    summaries.append(parsed[nextParsed].summary)
                    nextParsed += 1
                }
            }
            nextParsed = 0
            var start = 0
            while start < sources.count {
                let end = min(start + Self.chunkLength, sources.count)
                let chunkIndex = start / Self.chunkLength
                if chunkIndex < previous.chunks.count, previous.chunks[chunkIndex].count == end - start,
                    (start..<end).allSatisfy({ sources[$0] == $0 })
                {
                    chunks.append(previous.chunks[chunkIndex])
                } else {
                    var chunk: [DocumentRecord] = []
                    chunk.reserveCapacity(end - start)
                    for index in start..<end {
                        if let source = sources[index] {
                            previous.withRecord(at: source) { chunk.append(copy $0) }
                        } else {
                            chunk.append(Self.trimmed(parsed[nextParsed]))
                            nextParsed += 1
                        }
                    }
                    chunks.append(chunk)
                }
                start = end
            }
        }

        /// A record keeps no room for more objects than it holds (a streamed List's one record
        /// grows by runs).
        private static func trimmed(_ record: DocumentRecord) -> DocumentRecord {
            guard record.hasRoomToSpare else { return record }
            var record = record
            record.trim()
            return record
        }

        /// Calls `body` with document `index`'s record.
        func withRecord<Result>(at index: Int, _ body: (borrowing DocumentRecord) -> Result) -> Result {
            chunks[index / Self.chunkLength].withUnsafeBufferPointer { body($0[index % Self.chunkLength]) }
        }

        /// Calls `body` with each document's index and record, in order. Handing each over still
        /// copies it, retaining its names (the profile shows it): the passes an edit makes over every
        /// document read the plain arrays instead, and only the documents they pick.
        func forEach(_ body: (_ index: Int, _ record: borrowing DocumentRecord) -> Void) {
            var start = 0
            for chunk in chunks {
                chunk.withUnsafeBufferPointer { records in
                    for position in records.indices { body(start + position, records[position]) }
                }
                start += chunk.count
            }
        }

        /// Calls `body` with the index of each document `filter` may find a key in, in order:
        /// the others are passed over by their summaries, their records unread.
        func forEachDocument(mayDefineKeysOf filter: KeySetFilter, _ body: (_ index: Int) -> Void) {
            for index in summaries.indices where summaries[index].mayDefineKeys(of: filter) { body(index) }
        }

        /// Calls `body` with the index of each document that rejected some object, in order.
        func forEachDocumentRejectingObjects(_ body: (_ index: Int) -> Void) {
            for index in summaries.indices where summaries[index].rejectsObjects { body(index) }
        }

        /// The ClusterIPs the file's rejected Services name (`DocumentRecord.reserved`).
        var reserved: Set<IPAddress> {
            var reserved = Set<IPAddress>()
            for index in summaries.indices where summaries[index].reservesAddresses {
                withRecord(at: index) { reserved.formUnion($0.reserved) }
            }
            return reserved
        }

        /// How many chunks are shared with `other`, not copies (for a test).
        func sharedChunkCount(with other: DocumentList) -> Int {
            zip(chunks, other.chunks).count { first, second in
                first.withUnsafeBufferPointer { a in second.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
            }
        }
    }
}
