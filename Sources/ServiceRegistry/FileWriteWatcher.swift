#if canImport(Glibc)
import Glibc

/// Which manifest files a process has open for writing, from inotify: a file modified since its
/// writer last closed it is still being written and is not read, however still its size and mtime
/// look (a writer can pause longer than a poll). Read only a complete write: the close after
/// writing (`IN_CLOSE_WRITE`) or a rename into place (`IN_MOVED_TO`).
///
/// A hint beside the stamps, never instead of them: when inotify cannot start, or its queue
/// overflows, the stamps' "held still for a poll" rule alone decides. And a hint that expires: a
/// file not modified for `patience` counts as complete even without its close, because the close
/// event comes only when the last copy of the writer's descriptor closes, and a descriptor leaked
/// into a long-lived child would otherwise hold every reload back (the test suite's own child
/// processes did exactly that).
///
/// Unchecked Sendable: used only by `ManifestSource` while it holds its publication lock, except
/// `waitForEvents`, which only polls the descriptor.
final class FileWriteWatcher: @unchecked Sendable {
    private let descriptor: Int32
    /// Watch descriptor → the directory it watches, as the paths of its files begin.
    private var directories: [Int32: String] = [:]
    private var watched: Set<String> = []
    /// Files modified and not closed since, with when they were last modified.
    private var lastModified: [String: ContinuousClock.Instant] = [:]
    /// Files closed after writing, renamed into place or removed since `forgetCompleted()`: they
    /// can be read at once, without waiting for their stamp to hold still.
    private var completed: Set<String> = []
    /// Visible files created, renamed or deleted since `forgetEntryChanges()`, to tell whether a
    /// walk of the directories would find other files than the last one did.
    private var changedEntries: [(path: String, appeared: Bool)] = []
    /// Something came or went that the entries above do not say (a directory, lost events), or a
    /// directory is watched only since the last walk: the next listing must walk.
    private var entriesUnknown = true
    /// Files any event named since `forgetMentioned()` (written, closed, renamed, removed, their
    /// mode or times changed): the only files whose stamps can differ from the last poll's, unless
    /// `mentionsUnknown` (events lost, a directory watched only now).
    private var mentioned: Set<String> = []
    private var mentionsUnknown = true

    /// How long a modified, unclosed file counts as being written.
    static let patience: Duration = .seconds(2)
    /// Where events are read, allocated once: the source polls five times a second.
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    private static let events = UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB)

    init?() {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
    }

    deinit { close(descriptor) }

    /// Watches the directories `files` lie in, and `walked` (each once).
    func watchDirectories(of files: [String], walked: [String] = []) {
        let wanted = files.map { file in file.lastIndex(of: "/").map { String(file[..<$0]) } ?? "." } + walked.map(Self.withoutTrailingSlash)
        for directory in wanted {
            guard !watched.contains(directory) else { continue }
            let watch = inotify_add_watch(descriptor, directory, Self.events)
            guard watch >= 0 else {
                entriesUnknown = true
                continue
            }
            directories[watch] = directory
            watched.insert(directory)
            // What came before the watch was not seen: only a walk made after it tells.
            entriesUnknown = true
            mentionsUnknown = true
        }
    }

    private static func withoutTrailingSlash(_ directory: String) -> String {
        directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    }

    /// Whether a walk now would list exactly `files` (the last walk's manifests), as far as the
    /// events drained since that walk tell: no directory came or went, no event was lost, every
    /// directory was watched through, no listed file was renamed away or deleted, and no manifest
    /// file appeared that is not listed. A rename into place of a listed file (a hidden temporary
    /// renamed over it) keeps the listing. False whenever that cannot be known.
    func listingHolds(_ files: Set<String>) -> Bool {
        guard !entriesUnknown else { return false }
        for (path, appeared) in changedEntries {
            if appeared {
                // A walk skips hidden names (editors' and writers' temporaries).
                let name = path.lastIndex(of: "/").map { path[path.index(after: $0)...] } ?? path[...]
                if !name.hasPrefix(".") && ManifestLoader.isManifestName(name) && !files.contains(path) { return false }
            } else if files.contains(path) {
                return false
            }
        }
        return true
    }

    /// Called with a listing made (or kept) after the last `drain()`: the changes drained are in it.
    func forgetEntryChanges() {
        changedEntries.removeAll(keepingCapacity: true)
        entriesUnknown = false
    }

    /// Takes in the events that arrived since the last call.
    func drain() {
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            let events = buffer
            events.withUnsafeBytes { bytes in
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    let nameBytes = bytes[nameStart..<(nameStart + Int(event.len))].prefix { $0 != 0 }
                    offset = nameStart + Int(event.len)
                    take(event, name: String(decoding: nameBytes, as: UTF8.self))
                }
            }
        }
    }

    /// Whether `path` was modified within `patience` and not closed since.
    func isBeingWritten(_ path: String) -> Bool {
        guard let modified = lastModified[path] else { return false }
        return modified.duration(to: .now) < Self.patience
    }

    /// Whether `path` was closed after writing, renamed into place or removed since the last
    /// `forgetCompleted()`.
    func wasCompleted(_ path: String) -> Bool { completed.contains(path) }

    func forgetCompleted() { completed.removeAll() }

    /// The files events named since the last `forgetMentioned()`; nil when that cannot be known.
    var filesMentioned: Set<String>? { mentionsUnknown ? nil : mentioned }

    /// Called once the stamps of the files mentioned (or of all) were taken after the last `drain()`.
    func forgetMentioned() {
        mentioned.removeAll(keepingCapacity: true)
        mentionsUnknown = false
    }

    /// Blocks until an event arrives or `timeout` passes; true when events are waiting. This is
    /// what lets an edit be answered within milliseconds rather than at the next poll.
    func waitForEvents(timeout: Duration) -> Bool {
        var descriptors = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return poll(&descriptors, 1, milliseconds) > 0
    }

    private func take(_ event: inotify_event, name: String) {
        let mask = Int32(bitPattern: event.mask)
        if mask & IN_Q_OVERFLOW != 0 {
            lastModified.removeAll()  // events were lost: the stamps decide alone
            completed.removeAll()
            entriesUnknown = true
            mentionsUnknown = true
            return
        }
        if mask & IN_IGNORED != 0, let directory = directories.removeValue(forKey: event.wd) {
            watched.remove(directory)
            entriesUnknown = true
            mentionsUnknown = true
            return
        }
        if mask & (IN_MOVE_SELF | IN_DELETE_SELF) != 0 {
            entriesUnknown = true  // a watched directory moved or went: its path may name another now
            mentionsUnknown = true
            return
        }
        guard let directory = directories[event.wd], !name.isEmpty else { return }
        let path = directory + "/" + name
        mentioned.insert(path)
        let entryEvents = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE
        if mask & IN_ISDIR != 0 {
            // Hidden directories are never walked.
            if mask & entryEvents != 0 && !name.hasPrefix(".") { entriesUnknown = true }
            return
        }
        if mask & entryEvents != 0 { changedEntries.append((path, mask & (IN_CREATE | IN_MOVED_TO) != 0)) }
        if mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) != 0 {
            lastModified.removeValue(forKey: path)
            completed.insert(path)
        } else if mask & (IN_MODIFY | IN_CREATE) != 0 {
            lastModified[path] = .now
        }
    }
}
#else
/// inotify is Linux's; elsewhere the stamps alone decide when a file is complete.
final class FileWriteWatcher: @unchecked Sendable {
    init?() { return nil }
    func isBeingWritten(_ path: String) -> Bool { false }
    func watchDirectories(of files: [String], walked: [String] = []) {}
    func listingHolds(_ files: Set<String>) -> Bool { false }
    func forgetEntryChanges() {}
    func drain() {}
    func wasCompleted(_ path: String) -> Bool { false }
    func forgetCompleted() {}
    var filesMentioned: Set<String>? { nil }
    func forgetMentioned() {}
    func waitForEvents(timeout: Duration) -> Bool { false }
}
#endif
