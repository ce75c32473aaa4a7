import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// The manifest registry as a live source. It loads the paths once, then watches them (inotify on
/// Linux, stamps everywhere) and turns each changed file into events: the file is parsed again,
/// its objects compared with what it held before, and only the differences reach the store. An
/// unchanged file is never read again.
///
/// - A file is read once its writer is done: closed or renamed into place (inotify), or its stamp
///   held still for a poll. A file still being written is not read.
/// - A broken file (not YAML/JSON, unreadable) keeps everything it held. An object whose new
///   version has errors keeps its last good version; the log says so.
/// - Two files defining the same object: the first by path wins; the second is reported.
public final class ManifestSource: Sendable {
    public let paths: [String]
    public let options: RegistryOptions
    private let logger: Logger
    private let state: Mutex<WatchState>
    /// `watch`'s callback. Held through every read and its publication, so a poll and a `reload()`
    /// from another thread never interleave and updates are published in serial order.
    private let publication = Mutex<Subscriber?>(nil)

    /// The callback in a box of its own. Held in the `Mutex` bare, a closure is converted to the
    /// lock's generic form and back on every `withLock`, each time wrapped in one more thunk: after
    /// a day of polls, a publication called through hundreds of thousands of them (seen as ever
    /// deeper stacks of reabstraction thunks in a profile of the release build).
    private final class Subscriber: Sendable {
        let publish: @Sendable (RegistryUpdate) -> Void

        init(_ publish: @escaping @Sendable (RegistryUpdate) -> Void) {
            self.publish = publish
        }
    }
    /// Files open for writing, and a way to wait for the next file event (inotify, on Linux).
    private let writes: FileWriteWatcher?

    /// What the watcher remembers between polls.
    private struct WatchState: Sendable {
        var store: RegistryStore
        /// What each file held when last read.
        private(set) var files: [String: FileRecord] = [:]
        /// Of each file read: its stamp, and the ClusterIPs its rejected Services name when there are
        /// any, and how many objects all of them define. What a poll or an update reads of every
        /// file, kept apart from the records: reaching a record copies it (101 copies a poll).
        private(set) var readStamps: [String: FileStamp] = [:]
        private(set) var reservedByFile: [String: Set<IPAddress>] = [:]
        private(set) var objectCount = 0

        mutating func setFiles(_ records: [String: FileRecord]) {
            files = [:]
            readStamps = [:]
            reservedByFile = [:]
            objectCount = 0
            for (path, record) in records { setRecord(record, at: path) }
        }

        /// Records what `path` holds now; nil: it is gone.
        mutating func setRecord(_ record: FileRecord?, at path: String) {
            objectCount -= files[path]?.objectCount ?? 0
            files[path] = record
            readStamps[path] = record?.stamp
            reservedByFile[path] = record.flatMap { $0.reserved.isEmpty ? nil : $0.reserved }
            objectCount += record?.objectCount ?? 0
        }

        var reservedAddresses: Set<IPAddress> { reservedByFile.values.reduce(into: []) { $0.formUnion($1) } }
        /// The files defining each object, in path order; the first one's version is served.
        var holders = Holders()
        /// Every file's stamp at the last poll: a changed file whose stamp held still since is complete.
        var polledStamps: [String: FileStamp] = [:]
        /// The last walk of the registry and its directories' stamps: while no directory changes,
        /// no file can have appeared or gone, so the walk is skipped.
        var listing: ManifestListing?
        /// Its files as a set, made once a walk rather than at each poll.
        var listedFiles: Set<String> = []
        var directoryStamps: [FileStamp] = []
        /// A `reload()` asked for before `watch` started: its first poll reads everything.
        var reloadRequested = false
        /// The stamps of a change refused as a sudden emptying, so it is not refused (and logged) again.
        var refusedStamps: [String: FileStamp]?
        /// Walks of the registry's directories so far.
        var walks = 0
        /// When every listed file was last stat'ed.
        var everyFileStamped: ContinuousClock.Instant?
        /// Files stat'ed so far.
        var stats = 0
        /// Files read again whose content had changed (their documents compared, the changed ones parsed).
        var filesReread = 0
    }

    /// Walks of the registry's directories so far (for tests: a rename into place must not cause one).
    var walkCount: Int { state.withLock { $0.walks } }

    /// Files stat'ed so far (for tests: a rename into place stats that file, not all of them).
    var statCount: Int { state.withLock { $0.stats } }

    /// Files read again with new content so far (for tests: a file touched but unchanged is not).
    var rereadCount: Int { state.withLock { $0.filesReread } }

    /// How long the stamps the file events vouch for are trusted without a stat of every file: a
    /// change no event shows (a symbolic link's target replaced outside the watched directories)
    /// is seen within this, as at the default poll interval.
    let everyFileStampedWithin: Duration

    /// The identity of a file's content as cheap `stat` data. The mode and the inode are in it
    /// because an edit can leave size and mtime as they were (made while the file was unreadable,
    /// or copied with its mtime kept): the chmod back, or the file replaced, must still be seen.
    struct FileStamp: Hashable, Sendable {
        var path: String
        var size: Int
        var modified: Double
        var mode: UInt32 = 0
        var device: UInt64 = 0
        var inode: UInt64 = 0
    }

    /// JSON files larger than this are streamed into the store at the first load (`StreamedJSONFile`).
    let streamingJSONAbove: Int

    /// - Parameter watchingWrites: use inotify (Linux) to read a file as soon as its writer closes
    ///   or renames it, and never while it is open for writing; off, the stamps' "held still for a
    ///   poll" rule alone decides (tests of that rule turn it off, since their own child processes
    ///   can hold a written file's close back).
    public convenience init(paths: [String], options: RegistryOptions, logger: Logger, watchingWrites: Bool = true) {
        self.init(paths: paths, options: options, logger: logger, watchingWrites: watchingWrites, streamingJSONAbove: StreamedJSONFile.streamedAbove)
    }

    /// As above, with the streaming threshold a test chooses.
    init(
        paths: [String], options: RegistryOptions, logger: Logger, watchingWrites: Bool, streamingJSONAbove: Int,
        everyFileStampedWithin: Duration = .milliseconds(200)
    ) {
        self.streamingJSONAbove = streamingJSONAbove
        self.everyFileStampedWithin = everyFileStampedWithin
        self.paths = paths
        self.options = options
        self.logger = logger
        self.writes = watchingWrites ? FileWriteWatcher() : nil
        self.state = Mutex(WatchState(store: RegistryStore(options: options)))
    }

    /// The initial load: every valid object is served, every problem is in the result.
    public func load() -> RegistryLoadResult {
        publication.withLock { _ in
            // A streamed file whose objects had to be retracted (broken, or no List after all) is
            // rare enough to start again with every file read whole.
            load(streamingJSONAbove: streamingJSONAbove) ?? load(streamingJSONAbove: nil)!
        }
    }

    /// Loads every file; nil when a streamed file retracted what it gave.
    private func load(streamingJSONAbove streamingThreshold: Int?) -> RegistryLoadResult? {
        let (listing, stamps) = currentListing()
        var records: [String: FileRecord] = [:]
        var holders = Holders()
        var retracted = false
        var load = RegistryLoad(options: options, serial: state.withLock { $0.store.snapshot.serial }, pathErrors: listing.errors)
        @Sendable func streamed(_ stamp: FileStamp) -> Bool {
            streamingThreshold.map { StreamedJSONFile.streams(stamp.path, size: stamp.size, above: $0) } ?? false
        }
        // Files are decoded a few ahead on other threads; the store takes them in path order.
        // A large JSON file is decoded as the store takes it instead (`StreamedJSONFile`).
        ReadAhead.forEach(Array(zip(listing.files, stamps)), work: { path, stamp -> (FileReading, Int)? in
            if streamed(stamp) { return nil }
            if ManifestParser.isJSONFile(path) {
                // Hashed as it is streamed: a large List is read once.
                let (decoded, hash) = DecodedFile.streamingJSON(at: path)
                return (Self.wholeFileReading(decoded, documents: [], previous: nil), hash)
            }
            let file = ManifestLoader.read(path)
            guard case .success(let text) = file.contents, !file.streamsFromDisk else { return (Self.decode(file, previous: nil), 0) }
            // Hashed as it is cut into documents, as a poll hashes it.
            let documents = YAMLDocuments(text)
            return (Self.decode(documents, path: path, previous: nil), documents.contentHash)
        }, consume: { item, decoded in
            let (path, stamp) = item
            guard !retracted else { return }
            let (reading, hash): (FileReading, Int)
            if let decoded {
                (reading, hash) = decoded
            } else {
                var record = DocumentRecord()
                let (rest, fileHash, retraction) = StreamedJSONFile.decode(at: path) { objects in
                    load.stage(objects)
                    // Read where they lie: a loop over the array copied each object whole.
                    objects.withUnsafeBufferPointer { objects in
                        for index in objects.indices { record.append(DocumentRecord.Object(objects[index], documentFirstLine: 1)) }
                    }
                }
                guard !retraction else {
                    retracted = true
                    return
                }
                (reading, hash) = (Self.streamedReading(rest, streamed: record), fileHash)
            }
            load.add(reading.decoded)
            let count = holders.add(path, keysOf: reading.documents)
            records[path] = FileRecord(stamp: stamp, contentHash: hash, reading: reading, kept: [], objectCount: count)
        })
        guard !retracted else { return nil }
        let serial = RegistryStore.nextSerial(after: state.withLock { $0.store.snapshot.serial })
        let (store, result) = load.finish(serial: serial, files: listing.files)
        ManifestLoader.logSkipped(result.skipped, logger: logger)
        return state.withLock { state in
            state.store = store
            state.setFiles(records)
            state.holders = holders
            state.polledStamps = Dictionary(stamps.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            state.reloadRequested = false
            return result
        }
    }

    /// Watches the paths and calls `onUpdate` with each change, from file events, from polls every
    /// `interval`, and from `reload()`; serials only grow. Returns when the task is cancelled.
    public func watch(
        interval: Duration = .milliseconds(200),
        onUpdate: @escaping @Sendable (RegistryUpdate) -> Void
    ) async {
        let watching = startWatching(interval: interval, onUpdate: onUpdate)
        await withTaskCancellationHandler {
            for await _ in watching.finished {}
        } onCancel: {
            watching.stop()
        }
    }

    /// Starts watching on a thread of its own (waiting for file events blocks) and returns at once,
    /// subscribed: a change made after this call is published. `stop()` ends it.
    public func startWatching(
        interval: Duration = .milliseconds(200),
        onUpdate: @escaping @Sendable (RegistryUpdate) -> Void
    ) -> ManifestWatch {
        let reloadRequested = publication.withLock { subscriber in
            subscriber = Subscriber(onUpdate)
            return state.withLock { state in
                defer { state.reloadRequested = false }
                return state.reloadRequested
            }
        }
        let watch = ManifestWatch()
        let thread = Thread { [self] in
            // Named so that its CPU can be told from the query threads' (Benchmarks/load/churn.py).
            Self.nameThisThread("registry-watch")
            if reloadRequested { publication.withLock { readAll(publishingThrough: $0) } }
            while !watch.isStopped {
                var seen = ContinuousClock.now
                if let writes {
                    // Changes arriving together (several files renamed into place) are read as one.
                    if writes.waitForEvents(timeout: interval) {
                        seen = .now
                        Thread.sleep(forTimeInterval: 0.002)
                    }
                } else {
                    watch.pause(for: interval)
                }
                guard !watch.isStopped else { break }
                publication.withLock { subscriber in
                    if var update = pollUpdate() {
                        if writes != nil { update.seen = seen }
                        subscriber?.publish(update)
                    }
                }
            }
            publication.withLock { $0 = nil }
            watch.finish()
        }
        thread.start()
        return watch
    }

    /// Names the calling thread as `ps -L` and /proc show it (Linux; 15 bytes at most). Foundation's
    /// `Thread.name` does not reach the kernel here, and Glibc's module does not export
    /// `pthread_setname_np`; the thread's own `comm` file is the kernel's interface for it.
    private static func nameThisThread(_ name: String) {
        #if os(Linux)
        let descriptor = open("/proc/thread-self/comm", O_WRONLY)
        guard descriptor >= 0 else { return }
        _ = name.withCString { write(descriptor, $0, strlen($0)) }
        close(descriptor)
        #endif
    }

    /// Reads every file now, whatever their stamps say, and publishes what changed through `watch`'s
    /// callback: for SIGHUP, and for edits no stamp shows. Before `watch` has started, its first
    /// poll does it. Logs the change, the errors, or that nothing changed.
    public func reload() {
        let watching = publication.withLock { subscriber in
            guard let subscriber else { return false }
            readAll(publishingThrough: subscriber)
            return true
        }
        if !watching { state.withLock { $0.reloadRequested = true } }
    }

    private func readAll(publishingThrough subscriber: Subscriber?) {
        let (listing, stamps) = currentListing()
        state.withLock { state in state.polledStamps = Dictionary(stamps.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first }) }
        let update = read(listing, stamps: stamps, only: nil, forced: true)
        if let update { subscriber?.publish(update) }
    }

    /// The snapshot served now.
    var snapshot: RegistrySnapshot { state.withLock { $0.store.snapshot } }

    /// One poll, for tests: the new snapshot, if the files changed in a way that is ready to read.
    func poll() -> RegistrySnapshot? {
        pollUpdate()?.snapshot
    }

    /// One poll: nil unless some file changed, is complete (closed or renamed into place, or held
    /// still since the previous poll), and its new content changes the registry.
    func pollUpdate() -> RegistryUpdate? {
        // Events first: they may vouch for the last listing (`currentListing`).
        writes?.drain()
        let (listing, stamps) = currentListing(vouchedByEvents: true)
        let (ready, refused) = state.withLock { state -> (Set<String>, Bool) in
            let stampByPath = Dictionary(stamps.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            defer { state.polledStamps = stampByPath }
            var ready = Set<String>()
            for stamp in stamps where state.readStamps[stamp.path] != stamp {
                let settled = state.polledStamps[stamp.path] == stamp || writes?.wasCompleted(stamp.path) == true
                let beingWritten = writes?.isBeingWritten(stamp.path) ?? false
                if settled && !beingWritten { ready.insert(stamp.path) }
            }
            for path in state.files.keys where stampByPath[path] == nil { ready.insert(path) }
            let refused = state.refusedStamps == state.polledStamps && state.polledStamps == stampByPath
            return (ready, refused)
        }
        writes?.forgetCompleted()
        guard !ready.isEmpty, !refused else { return nil }
        return read(listing, stamps: stamps, only: ready, forced: false)
    }

    /// Reads the files in `only` (all listed files when nil), turns their differences into events,
    /// applies them, and returns the update to publish, if any.
    private func read(_ listing: ManifestListing, stamps: [FileStamp], only: Set<String>?, forced: Bool) -> RegistryUpdate? {
        let start = ContinuousClock.now
        let stampByPath = Dictionary(stamps.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let (records, knownPaths) = state.withLock { ($0.files, Set($0.files.keys)) }
        let candidates = (only ?? Set(listing.files).union(knownPaths)).sorted()

        var decodedFiles: [String: DecodedFile] = [:]
        var newRecords: [String: FileRecord?] = [:]  // nil value: the file is gone
        // The keys each file read lost and gained.
        var keyChanges: [String: (lost: Set<RegistryObjectKey>, gained: Set<RegistryObjectKey>)] = [:]
        for path in candidates {
            guard let stamp = stampByPath[path], listing.files.contains(path) else {
                if records[path] != nil { newRecords[path] = .some(nil) }
                continue
            }
            let (file, hash) = Self.readPolled(path)
            if let record = records[path], record.contentHash == hash, hash != 0 {
                newRecords[path] = .keeping(record, stamp: stamp, contentHash: hash)
                continue
            }
            state.withLock { $0.filesReread += 1 }
            let reading = switch file {
            case .yaml(let documents): Self.decode(documents, path: path, previous: records[path])
            case .other(let file): Self.decode(file, previous: records[path])
            }
            let decoded = reading.decoded
            for error in decoded.errors { if error.isWarning { logger.warning("\(error)") } else { logger.error("\(error)") } }
            if decoded.isBroken {
                let held = records[path]?.objectCount ?? 0
                logger.error("\(path) cannot be used as it is; its \(held) object(s) keep their last good versions until it is fixed (still serving the last good registry)")
                // Its hash is kept: the same broken content is not read (nor logged) again.
                newRecords[path] = .keeping(records[path], stamp: stamp, contentHash: hash)
                continue
            }
            // A file that now ends in an object with errors and lost objects it held was most likely
            // cut short (a write that failed half-way): it keeps what it held until it is whole.
            let change = Self.keyChange(from: records[path], to: reading)
            if reading.endsInError && !change.vanished.isEmpty {
                logger.error("\(path) ends in an object with errors and would drop \(change.vanished.count) object(s): it looks cut short; its objects keep their last good versions until it is whole (still serving the last good registry)")
                newRecords[path] = .keeping(records[path], stamp: stamp, contentHash: hash)
                continue
            }
            decodedFiles[path] = decoded
            keyChanges[path] = (change.lost, change.gained)
            ManifestLoader.logSkipped(decoded.skipped, logger: logger)
            for key in change.kept.sorted() {
                logger.warning("\(path): \(key) keeps its last good version until its errors are fixed")
            }
            newRecords[path] = FileRecord(stamp: stamp, contentHash: hash, reading: reading, kept: change.kept, objectCount: change.objectCount)
        }

        return state.withLock { state -> RegistryUpdate? in
            // A registry that would suddenly hold nothing is a mistake until shown otherwise.
            var remaining = state.objectCount
            for (path, record) in newRecords { remaining += (record?.objectCount ?? 0) - (state.files[path]?.objectCount ?? 0) }
            if remaining == 0 && state.store.objectCount > 0 {
                state.refusedStamps = stampByPath
                logger.error("registry suddenly holds \(listing.files.count) file(s) and no object; still serving the last good registry, waiting for the next change")
                return nil
            }
            state.refusedStamps = nil
            // The keys a file gained or lost, and those of the documents parsed again: objects of
            // unchanged documents are left as they are.
            // (A file kept as it was, unchanged or broken, defines the same keys as before.)
            var touchedKeys = Set<RegistryObjectKey>()
            for (path, record) in newRecords where record == nil {
                keyChanges[path] = (lost: state.files[path]?.keys ?? [], gained: [])
            }
            for (path, change) in keyChanges {
                touchedKeys.formUnion(change.lost)
                touchedKeys.formUnion(change.gained)
                touchedKeys.formUnion(decodedFiles[path]?.allObjects.map(\.key) ?? [])
            }
            let servedBefore = Dictionary(uniqueKeysWithValues: touchedKeys.map { ($0, state.holders.first(of: $0)) })
            for (path, change) in keyChanges {
                for key in change.lost {
                    state.holders.remove(path, for: key)
                }
                for key in change.gained {
                    state.holders.add(path, for: key)
                }
            }
            for (path, record) in newRecords { state.setRecord(record, at: path) }
            var events: [RegistryEvent] = []
            // Each decoded file's objects by key, made once: a file holds thousands.
            var objectsByFile: [String: [RegistryObjectKey: RegistryObject]] = [:]
            func objects(of path: String, _ decoded: DecodedFile) -> [RegistryObjectKey: RegistryObject] {
                if let known = objectsByFile[path] { return known }
                let byKey = Dictionary(decoded.allObjects.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
                objectsByFile[path] = byKey
                return byKey
            }
            for key in touchedKeys.sorted() {
                guard let holders = state.holders[key], let holder = holders.first else {
                    events.append(.delete(key))
                    continue
                }
                if holders.count > 1 {
                    logger.error("\(key) is defined in \(holders.joined(separator: " and ")); the one in \(holder) is served")
                }
                if let decoded = decodedFiles[holder] {
                    // No object under the key: a rejected new version, keeping its last good one.
                    if let object = objects(of: holder, decoded)[key] { events.append(.upsert(object)) }
                } else if servedBefore[key] != holder {
                    // The file that served it dropped it; another file defines it too: serve that version.
                    if decodedFiles[holder] == nil { decodedFiles[holder] = DecodedFile(Self.readHashing(holder).file) }
                    if let decoded = decodedFiles[holder], let object = objects(of: holder, decoded)[key] { events.append(.upsert(object)) }
                }
            }
            state.store.reservedAddresses = state.reservedAddresses
            let serial = RegistryStore.nextSerial(after: state.store.snapshot.serial)
            let (files, holders) = (state.files, state.holders)
            let locating: RegistryStore.Locator = { key in holders.first(of: key).flatMap { files[$0]?.location(of: key, path: $0) } }
            guard let update = state.store.apply(events, serial: serial, locating: locating) else {
                if forced { logger.info("registry re-read: unchanged, still serving serial \(state.store.snapshot.serial)") }
                return nil
            }
            // Errors of the Services this update derived (a clash, a failed allocation); older ones were logged already.
            for error in state.store.errors {
                guard let object = error.object, update.change.services.contains(ObjectKey(namespace: object.namespace, name: object.name)) else { continue }
                logger.error("\(error)")
            }
            let changedFiles = newRecords.keys.sorted()
            logger.info("registry updated (serial \(serial)) from \(changedFiles.joined(separator: ", ")): \(update.change.services.count) service(s) derived again in \((ContinuousClock.now - start).briefly)")
            let removed = update.change.removed
            if !removed.isEmpty {
                let emptied = changedFiles.filter { newRecords[$0]??.objectCount == 0 && stampByPath[$0]?.size == 0 }
                let deleted = changedFiles.filter { newRecords[$0] == .some(nil) }
                var culprits = ""
                if !emptied.isEmpty { culprits += "; emptied: " + emptied.joined(separator: ", ") }
                if !deleted.isEmpty { culprits += "; deleted: " + deleted.joined(separator: ", ") }
                logger.warning("registry update (serial \(serial)) removed \(removed)\(culprits)")
            }
            return update
        }
    }

    /// The registry's files (walked again only when a directory changed, and then its directories
    /// watched) and their stamps.
    /// - Parameter vouchedByEvents: the file events drained just before may keep the last listing
    ///   (`FileWriteWatcher.listingHolds`): each rename into place changes its directory, which
    ///   otherwise makes every poll walk again (a twentieth of an endpoint edit's work in a
    ///   directory of 101 files).
    private func currentListing(vouchedByEvents: Bool = false) -> (ManifestListing, [FileStamp]) {
        let (known, listedFiles, directories) = state.withLock { ($0.listing, $0.listedFiles, $0.directoryStamps) }
        if vouchedByEvents, let known, known.errors.isEmpty, let writes, writes.listingHolds(listedFiles) {
            writes.forgetEntryChanges()
            return (known, stamps(of: known.files, vouchedByEvents: true))
        }
        // A directory changed within the last second may change again inside the same coarse
        // timestamp tick, so its stamp proves nothing yet (git's "racy" entries): walk again.
        // The same rule covers a file added while the walk was reading its directory.
        let oneSecondAgo = Date().timeIntervalSince1970 - 1
        let settled = directories.allSatisfy { $0.modified < oneSecondAgo }
        let listing: ManifestListing
        if let known, !directories.isEmpty, settled, directories == directories.map({ Self.stamp($0.path) }) {
            listing = known
        } else {
            // Events drained before this walk are in it; later ones wait in the queue.
            writes?.forgetEntryChanges()
            listing = ManifestLoader.listing(of: paths)
            writes?.watchDirectories(of: listing.files, walked: listing.directories)
            let directoryStamps = listing.directories.map(Self.stamp)
            let listedFiles = Set(listing.files)
            state.withLock { state in
                state.listing = listing
                state.listedFiles = listedFiles
                state.directoryStamps = directoryStamps
                state.walks += 1
            }
        }
        return (listing, stamps(of: listing.files, vouchedByEvents: false))
    }

    /// The stamps of `files`. Events drained just before, and a stat of every file within
    /// `everyFileStampedWithin`, vouch for the last poll's stamps of the files no event named: only
    /// the others are stat'ed (a stat of each of 101 files was a twentieth of an endpoint edit's work).
    private func stamps(of files: [String], vouchedByEvents: Bool) -> [FileStamp] {
        let now = ContinuousClock.now
        let mentioned = writes?.filesMentioned
        writes?.forgetMentioned()
        let (polled, stampedEveryFile) = state.withLock { ($0.polledStamps, $0.everyFileStamped) }
        if vouchedByEvents, let mentioned, let stampedEveryFile, stampedEveryFile.duration(to: now) < everyFileStampedWithin {
            var statted = 0
            let stamps = files.map { path in
                if !mentioned.contains(path), let stamp = polled[path] { return stamp }
                statted += 1
                return Self.stamp(path)
            }
            state.withLock { $0.stats += statted }
            return stamps
        }
        state.withLock { state in
            state.everyFileStamped = now
            state.stats += files.count
        }
        return files.map(Self.stamp)
    }

    /// Reads one file and hashes its content on the way (0 stands for "unreadable"). A JSON file is
    /// only hashed here, in one pass of small reads; decoding streams it again if it changed.
    private static func readHashing(_ path: String) -> (file: ManifestFile, hash: Int) {
        let file = ManifestLoader.read(path)
        if file.streamsFromDisk { return (file, ContentHash.ofFile(path)) }
        guard case .success(let text) = file.contents else { return (file, 0) }
        let hash = ContentHash.of(text)
        return (file, hash == 0 ? 1 : hash)
    }

    /// A file as a poll reads it: YAML as its checked UTF-8 cut into documents, of which strings are
    /// made only for the documents that changed; JSON, or a file that cannot be read, as
    /// `ManifestLoader.read` gives it.
    private enum PolledFile {
        case yaml(YAMLDocuments)
        case other(ManifestFile)
    }

    /// Reads one file for a poll, hashing its content (0 stands for "unreadable").
    private static func readPolled(_ path: String) -> (file: PolledFile, hash: Int) {
        guard !ManifestParser.isJSONFile(path) else {
            let (file, hash) = readHashing(path)
            return (.other(file), hash)
        }
        switch UTF8FileReader.readBytes(path) {
        case .success(let bytes):
            // Hashed document by document as it is cut, not in a pass of its own before.
            let documents = YAMLDocuments(utf8: bytes)
            return (.yaml(documents), documents.contentHash)
        case .failure(let failure):
            return (.other(ManifestFile(path: path, contents: .failure(.init(failure)))), 0)
        }
    }

    /// Size, modification time, mode and inode from stat(2).
    private static func stamp(_ path: String) -> FileStamp {
        // stat(2) directly: the poll runs every 200 ms beside the query threads, and FileManager's
        // attribute dictionaries cost ten times as much for a registry of hundreds of files.
        var info = stat()
        guard stat(path, &info) == 0 else { return FileStamp(path: path, size: -1, modified: -1) }
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        return FileStamp(
            path: path, size: Int(info.st_size), modified: modified, mode: UInt32(info.st_mode),
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}

/// The files defining each object, in path order. Nearly every object has one file, kept without an
/// array of its own; the rare duplicates keep the others beside it. Kept by digest (`KeyDigest`) and
/// file number: the index holds every key of the registry, and the keys themselves are in the files'
/// document records already. A sorted array (`DigestNumbers`) rather than a persistent trie of
/// digests and path strings or a hash table: nothing shares it, and it takes 2.3 MB for the 117k
/// keys of 50k Services against 7.2 MB as a trie and 5.3 MB as a hash table.
private struct Holders: Sendable {
    private var first = DigestNumbers()
    private var others: [KeyDigest: [String]] = [:]
    private var paths = PathNumbers()

    /// The file whose version of `key` is served.
    func first(of key: RegistryObjectKey) -> String? { first[KeyDigest(key)].map { paths[$0] } }

    subscript(key: RegistryObjectKey) -> [String]? {
        let digest = KeyDigest(key)
        guard let number = first[digest] else { return nil }
        return [paths[number]] + (others[digest] ?? [])
    }

    /// Adds `path` to the files defining each key of `documents`, a file of the initial load, and
    /// returns how many keys it defines (a key defined twice in the file was reported, and counts
    /// once). The digests are sorted and merged in at once: one by one, through the table's
    /// pending changes and their merges, they were 3 % of a 50k-Service start.
    mutating func add(_ path: String, keysOf documents: ManifestSource.DocumentList) -> Int {
        let number = paths.number(of: path)
        var entries: [(digest: KeyDigest, number: UInt32)] = []
        documents.forEach { _, document in document.forEachKey { entries.append((KeyDigest($0), number)) } }
        entries.sort { $0.digest < $1.digest }
        // Each key once, in place.
        var distinctCount = 0
        for index in entries.indices where distinctCount == 0 || entries[distinctCount - 1].digest != entries[index].digest {
            entries[distinctCount] = entries[index]
            distinctCount += 1
        }
        entries.removeLast(entries.count - distinctCount)
        // Keys an earlier file defines too: added beside it, one by one.
        let heldElsewhere = first.insertUnlessHeld(entries)
        return entries.count - heldElsewhere.count + heldElsewhere.count { add(path, digest: $0) }
    }

    /// Adds `path` to the files defining `key`; false when it is one already.
    @discardableResult
    mutating func add(_ path: String, for key: RegistryObjectKey) -> Bool {
        add(path, digest: KeyDigest(key))
    }

    private mutating func add(_ path: String, digest: KeyDigest) -> Bool {
        guard let headNumber = first[digest] else {
            first[digest] = paths.number(of: path)
            return true
        }
        let head = paths[headNumber]
        guard head != path, others[digest]?.contains(path) != true else { return false }
        let definers = ([head, path] + (others[digest] ?? [])).sorted()
        first[digest] = paths.number(of: definers[0])
        others[digest] = Array(definers.dropFirst())
        return true
    }

    mutating func remove(_ path: String, for key: RegistryObjectKey) {
        let digest = KeyDigest(key)
        guard let headNumber = first[digest] else { return }
        var rest = others[digest] ?? []
        if paths[headNumber] == path {
            first[digest] = rest.isEmpty ? nil : paths.number(of: rest.removeFirst())
        } else {
            rest.removeAll { $0 == path }
        }
        others[digest] = rest.isEmpty ? nil : rest
    }
}

/// A running watch of a `ManifestSource`.
public final class ManifestWatch: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let stream = AsyncStream<Void>.makeStream()
    /// Signalled by `stop()`, so a watch polling on a long interval ends at once.
    private let wakeUp = DispatchSemaphore(value: 0)

    /// Ends when the watch has stopped.
    public var finished: AsyncStream<Void> { stream.stream }

    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Stops watching after the poll under way, if any (with inotify, within one poll interval).
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        wakeUp.signal()
    }

    /// Waits `interval`, or less if stopped meanwhile.
    func pause(for interval: Duration) {
        let nanoseconds = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        _ = wakeUp.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds)))
    }

    func finish() { stream.continuation.finish() }
}
