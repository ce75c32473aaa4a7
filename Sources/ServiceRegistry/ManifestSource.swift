import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// The manifest registry as a live source: loads the paths once, then polls them and publishes a
/// new snapshot whenever their content changes and still loads cleanly. A file still being written
/// is not read until it has held still for a poll interval, and a broken edit keeps the last good
/// snapshot (the errors are logged) until the next change fixes it. `reload()` re-reads on demand.
public final class ManifestSource: Sendable {
    public let paths: [String]
    public let options: RegistryOptions
    private let logger: Logger
    private let state = Mutex(WatchState())
    /// `watch`'s callback. Held through every load and its publication, so a poll and a `reload()`
    /// from another thread never interleave and snapshots are published in serial order.
    private let publication = Mutex<(@Sendable (RegistrySnapshot) -> Void)?>(nil)
    /// Files open for writing (inotify, on Linux), used only under `publication`.
    private let writes: FileWriteWatcher?

    /// What the watcher remembers between polls.
    private struct WatchState: Sendable {
        /// Serial of the last published snapshot (0 before the first load).
        var serial: UInt32 = 0
        /// Every file's stamp at the last poll, and at the last read: a file whose stamp differs
        /// from both is still being written, and is read once a poll finds it as the last one did.
        var polledStamps: [FileStamp] = []
        var readStamps: [FileStamp] = []
        /// The last walk of the registry and its directories' stamps: while no directory changes,
        /// no file can have appeared or gone, so the walk is skipped.
        var listing: ManifestListing?
        var directoryStamps: [FileStamp] = []
        /// Hash of the content last loaded, good or bad, so a touch without a change is not reloaded.
        var contentHash: Int?
        /// Hash of the content of the last published snapshot, so a forced reload of the same
        /// content publishes nothing.
        var publishedContentHash: Int?
        /// What the last published snapshot serves, to say what a reload removes.
        var published = RegistryInventory()
        /// A `reload()` asked for before `watch` started: its first poll reads everything.
        var reloadRequested = false
        /// Size of the last good registry, to refuse a sudden empty one.
        var goodFiles = 0
        var goodObjects = 0
    }

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

    /// - Parameter watchingWrites: also wait for each writer's close (inotify, Linux) before reading
    ///   a changed file; off, the stamps' "held still for a poll" rule alone decides (tests of that
    ///   rule turn it off, since their own child processes can hold a written file's close back).
    public init(paths: [String], options: RegistryOptions, logger: Logger, watchingWrites: Bool = true) {
        self.paths = paths
        self.options = options
        self.logger = logger
        self.writes = watchingWrites ? FileWriteWatcher() : nil
    }

    /// The initial load. Its snapshot is the baseline the watcher compares to, even when it has
    /// errors (the caller decides whether to serve a partial registry).
    public func load() -> RegistryLoadResult {
        publication.withLock { _ in
            let (listing, stamps) = currentListing()
            writes?.watchDirectories(of: listing.files)
            let serial = state.withLock { Self.nextSerial(after: $0.serial) }
            let (result, loadedHash) = loadHashing(listing, serial: serial)
            let contentHash = loadedHash ^ listing.errors.count
            ManifestLoader.logSkipped(result.skipped, logger: logger)
            let inventory = RegistryInventory(result.snapshot)
            state.withLock { state in
                state.serial = serial
                state.polledStamps = stamps
                state.readStamps = stamps
                state.contentHash = contentHash
                state.publishedContentHash = contentHash
                state.published = inventory
                state.goodFiles = result.files.count
                state.goodObjects = Self.objectCount(result)
                state.reloadRequested = false
            }
            return result
        }
    }

    /// Polls the paths every `interval` and calls `onUpdate` with each new good snapshot, from the
    /// polls and from `reload()`; its serial is always greater than the last one. Returns when the
    /// task is cancelled.
    public func watch(
        interval: Duration = .milliseconds(200),
        onUpdate: @escaping @Sendable (RegistrySnapshot) -> Void
    ) async {
        let reloadRequested = publication.withLock { subscriber in
            subscriber = onUpdate
            return state.withLock { state in
                defer { state.reloadRequested = false }
                return state.reloadRequested
            }
        }
        defer { publication.withLock { $0 = nil } }
        if reloadRequested { readAllAndPublish() }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            publication.withLock { publish in
                if let snapshot = poll() { publish?(snapshot) }
            }
        }
    }

    /// Reads every file now, whatever their stamps say, and publishes the result through `watch`'s
    /// callback if it is new and good: for SIGHUP, and for edits no stamp shows. Before `watch` has
    /// started, its first poll does it. Logs the reload, the errors, or that nothing changed.
    public func reload() {
        let watching = publication.withLock { publish in
            guard publish != nil else { return false }
            readAllAndPublish(through: publish)
            return true
        }
        if !watching { state.withLock { $0.reloadRequested = true } }
    }

    private func readAllAndPublish() {
        publication.withLock { readAllAndPublish(through: $0) }
    }

    private func readAllAndPublish(through publish: ((RegistrySnapshot) -> Void)?) {
        let (listing, stamps) = currentListing()
        state.withLock { $0.polledStamps = stamps }
        if let snapshot = read(listing, stamps: stamps, forced: true) { publish?(snapshot) }
    }

    /// One poll: nil unless the files changed, have held still since the previous poll (a file still
    /// being written is not read), and the new content loads without errors.
    func poll() -> RegistrySnapshot? {
        let (listing, stamps) = currentListing()
        writes?.watchDirectories(of: listing.files)
        writes?.drain()
        let changedAndSettled = state.withLock { state in
            defer { state.polledStamps = stamps }
            return stamps != state.readStamps && stamps == state.polledStamps
        }
        // A file some process still has open after writing to it is not read, however still its
        // stamp looks: its writer may only have paused.
        if changedAndSettled, let writes, writes.anyBeingWritten, stamps.contains(where: { writes.isBeingWritten($0.path) }) {
            return nil
        }
        guard changedAndSettled else { return nil }
        return read(listing, stamps: stamps, forced: false)
    }

    /// Reads the listed files and returns the snapshot to publish, if any. `forced` (a reload on
    /// demand) logs the errors of a broken registry again, and says so when nothing changed.
    private func read(_ listing: ManifestListing, stamps: [FileStamp], forced: Bool) -> RegistrySnapshot? {
        let (serial, goodFiles, goodObjects, previousHash, publishedHash, previousStamps, published, publishedSerial) =
            state.withLock { state in
                (Self.nextSerial(after: state.serial), state.goodFiles, state.goodObjects, state.contentHash,
                 state.publishedContentHash, state.readStamps, state.published, state.serial)
            }
        let (result, loadedHash) = loadHashing(listing, serial: serial)
        let contentHash = loadedHash ^ listing.errors.count
        state.withLock { state in
            state.contentHash = contentHash
            state.readStamps = stamps
        }
        if forced && contentHash == publishedHash {
            logger.info("registry re-read: unchanged, still serving serial \(publishedSerial)")
            return nil
        }
        // The same content as last time (a touch, or the same broken edit): nothing to say again.
        if !forced && contentHash == previousHash { return nil }
        ManifestLoader.logSkipped(result.skipped, logger: logger)

        let objects = Self.objectCount(result)
        if !result.isValid {
            for error in result.errors { logger.error("\(error)") }
            logger.error("registry has \(result.errors.count) error(s); still serving the last good registry, waiting for the next change")
            return nil
        }
        if (result.files.isEmpty || objects == 0) && (goodFiles > 0 && goodObjects > 0) {
            logger.error("registry suddenly holds \(result.files.count) file(s) and \(objects) object(s); still serving the last good registry, waiting for the next change")
            return nil
        }
        let inventory = RegistryInventory(result.snapshot)
        state.withLock { state in
            state.serial = serial
            state.goodFiles = result.files.count
            state.goodObjects = objects
            state.publishedContentHash = contentHash
            state.published = inventory
        }
        logger.info("registry reloaded (serial \(serial)): \(result.summary.services) services, \(result.summary.endpoints) endpoints, \(result.summary.pods) pods")
        let removed = published.removed(in: inventory)
        if !removed.isEmpty {
            logger.warning("registry reload (serial \(serial)) removed \(removed)\(Self.emptiedOrDeleted(from: previousStamps, to: stamps))")
        }
        return result.snapshot
    }

    /// `; emptied: a.yaml; deleted: b.yaml`, the usual culprits of a removal, or nothing.
    private static func emptiedOrDeleted(from previous: [FileStamp], to current: [FileStamp]) -> String {
        let currentByPath = Dictionary(current.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let emptied = previous.filter { $0.size > 0 && currentByPath[$0.path]?.size == 0 }.map(\.path)
        let deleted = previous.filter { currentByPath[$0.path] == nil || currentByPath[$0.path]?.size == -1 }.map(\.path)
        var text = ""
        if !emptied.isEmpty { text += "; emptied: " + emptied.joined(separator: ", ") }
        if !deleted.isEmpty { text += "; deleted: " + deleted.joined(separator: ", ") }
        return text
    }

    /// `max(previous + 1, now)`: serials keep growing across restarts, as an SOA serial must.
    static func nextSerial(after previous: UInt32) -> UInt32 {
        let now = UInt32(clamping: Int(Date().timeIntervalSince1970))
        return max(previous &+ 1, now)
    }

    /// The registry's files (walked again only when a directory changed) and their stamps.
    private func currentListing() -> (ManifestListing, [FileStamp]) {
        let (known, directories) = state.withLock { ($0.listing, $0.directoryStamps) }
        // A directory changed within the last second may change again inside the same coarse
        // timestamp tick, so its stamp proves nothing yet (git's "racy" entries): walk again.
        // The same rule covers a file added while the walk was reading its directory.
        let oneSecondAgo = Date().timeIntervalSince1970 - 1
        let settled = directories.allSatisfy { $0.modified < oneSecondAgo }
        let listing: ManifestListing
        if let known, !directories.isEmpty, settled, directories == directories.map({ Self.stamp($0.path) }) {
            listing = known
        } else {
            listing = ManifestLoader.listing(of: paths)
            let directoryStamps = listing.directories.map(Self.stamp)
            state.withLock { state in
                state.listing = listing
                state.directoryStamps = directoryStamps
            }
        }
        return (listing, listing.files.map(Self.stamp))
    }

    /// Loads the listed files, reading each once and hashing its content on the way, so a large
    /// registry is neither read twice nor held in memory whole. Skipped kinds are not logged here:
    /// the caller logs them once it knows the content is new.
    private func loadHashing(_ listing: ManifestListing, serial: UInt32) -> (RegistryLoadResult, Int) {
        let content = ContentHash(fileCount: listing.files.count)
        let files = listing.files.lazy.map { path in content.adding(ManifestLoader.read(path)) }
        let result = ManifestLoader.load(
            files: files, paths: listing.files, pathErrors: listing.errors, options: options, serial: serial, logger: nil)
        return (result, content.value)
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

    private static func objectCount(_ result: RegistryLoadResult) -> Int {
        result.snapshot.services.count + result.snapshot.pods.count + result.skipped.count
            + result.snapshot.namespaces.count
    }
}

/// A running hash of the files a load reads, in order. A class so the lazy read sequence can feed it.
private final class ContentHash {
    private var hasher = Hasher()

    init(fileCount: Int) {
        hasher.combine(fileCount)
    }

    func adding(_ file: ManifestFile) -> ManifestFile {
        hasher.combine(file)
        return file
    }

    var value: Int { hasher.finalize() }
}
