import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// The manifest registry as a live source: loads the paths once, then polls them and publishes a
/// new snapshot whenever their content changes and still loads cleanly. A broken or half-written
/// edit keeps the last good snapshot (the errors are logged) until the next change fixes it.
public final class ManifestSource: Sendable {
    public let paths: [String]
    public let options: RegistryOptions
    private let logger: Logger
    private let state = Mutex(WatchState())

    /// What the watcher remembers between polls.
    private struct WatchState: Sendable {
        /// Serial of the last published snapshot (0 before the first load).
        var serial: UInt32 = 0
        /// Path, size and modification time of every file at the last poll.
        var stamps: [FileStamp] = []
        /// The last walk of the registry and its directories' stamps: while no directory changes,
        /// no file can have appeared or gone, so the walk is skipped.
        var listing: ManifestListing?
        var directoryStamps: [FileStamp] = []
        /// Hash of the content last loaded, good or bad, so a touch without a change is not reloaded.
        var contentHash: Int?
        /// Size of the last good registry, to refuse a sudden empty one.
        var goodFiles = 0
        var goodObjects = 0
    }

    /// The identity of a file's content as cheap `stat` data.
    struct FileStamp: Hashable, Sendable {
        var path: String
        var size: Int
        var modified: Double
    }

    public init(paths: [String], options: RegistryOptions, logger: Logger) {
        self.paths = paths
        self.options = options
        self.logger = logger
    }

    /// The initial load. Its snapshot is the baseline the watcher compares to, even when it has
    /// errors (the caller decides whether to serve a partial registry).
    public func load() -> RegistryLoadResult {
        let (listing, stamps) = currentListing()
        let serial = state.withLock { Self.nextSerial(after: $0.serial) }
        let (result, contentHash) = loadHashing(listing, serial: serial)
        ManifestLoader.logSkipped(result.skipped, logger: logger)
        state.withLock { state in
            state.serial = serial
            state.stamps = stamps
            state.contentHash = contentHash
            state.goodFiles = result.files.count
            state.goodObjects = Self.objectCount(result)
        }
        return result
    }

    /// Polls the paths every `interval` and calls `onUpdate` with each new good snapshot; its
    /// serial is always greater than the last one. Returns when the task is cancelled.
    public func watch(
        interval: Duration = .milliseconds(200),
        onUpdate: @escaping @Sendable (RegistrySnapshot) -> Void
    ) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            if let snapshot = poll() { onUpdate(snapshot) }
        }
    }

    /// One poll: nil unless the files changed and the new content loads without errors.
    func poll() -> RegistrySnapshot? {
        let (listing, stamps) = currentListing()
        let unchanged = state.withLock { state in
            if state.stamps == stamps { return true }
            state.stamps = stamps
            return false
        }
        if unchanged { return nil }

        let (serial, goodFiles, goodObjects, previousHash) = state.withLock { state in
            (Self.nextSerial(after: state.serial), state.goodFiles, state.goodObjects, state.contentHash)
        }
        let (result, loadedHash) = loadHashing(listing, serial: serial)
        let contentHash = loadedHash ^ listing.errors.count
        state.withLock { $0.contentHash = contentHash }
        // The same content as last time (a touch, or the same broken edit): nothing to say again.
        if contentHash == previousHash { return nil }
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
        state.withLock { state in
            state.serial = serial
            state.goodFiles = result.files.count
            state.goodObjects = objects
        }
        logger.info("registry reloaded (serial \(serial)): \(result.summary.services) services, \(result.summary.endpoints) endpoints, \(result.summary.pods) pods")
        return result.snapshot
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

    /// Size and modification time from stat(2).
    private static func stamp(_ path: String) -> FileStamp {
        // stat(2) directly: the poll runs every 200 ms beside the query threads, and FileManager's
        // attribute dictionaries cost ten times as much for a registry of hundreds of files.
        var info = stat()
        guard stat(path, &info) == 0 else { return FileStamp(path: path, size: -1, modified: -1) }
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        return FileStamp(path: path, size: Int(info.st_size), modified: modified)
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
