import DNSWire
import Foundation
import ServiceRegistry
import Synchronization

/// A master file to serve as a static zone, and the origin its relative names hang from.
public struct StaticZoneFile: Hashable, Sendable {
    public var origin: DNSName
    public var path: String

    public init(origin: DNSName, path: String) {
        self.origin = origin.lowercased()
        self.path = path
    }

    /// `ORIGIN=PATH`, as `--zone-file` takes it.
    public init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), let origin = try? DNSName(argument[..<equals]) else { return nil }
        let path = String(argument[argument.index(after: equals)...])
        guard !path.isEmpty, !origin.isRoot else { return nil }
        self.init(origin: origin, path: path)
    }

    /// Why a zone at `origin` cannot be served beside the registry's zones: the cluster domain and
    /// the reverse zones are the registry's, and a static zone at or inside one would shadow its
    /// names without a word. Nil when it can.
    public static func conflict(of origin: DNSName, with configuration: ZoneConfiguration) -> String? {
        for registryOrigin in [configuration.domain] + ReverseZone.origins where origin.isSubdomain(of: registryOrigin) {
            return "the zone \(origin) \(origin == registryOrigin ? "is" : "lies inside") \(registryOrigin), which ClusterDNS serves from the registry; a static zone may not shadow it"
        }
        return nil
    }
}

/// What a read of the static zones found: the zones to serve, and every problem met on the way.
public struct StaticZoneReading: Sendable {
    /// One zone an origin, in the order of `StaticZoneLoader.files()`.
    public var zones: [StaticZone]
    public var errors: [StaticZoneError]
    /// Files read again or gone since the previous reading (every file, for the first).
    public var changedFiles: [String]
    /// Files whose new content is broken and whose last good zone is served instead.
    public var keptFiles: [String]
}

/// Finds the static zones (`*.zone` files in the registry's directories, origin from the file name;
/// and the files named by `--zone-file ORIGIN=PATH`), reads them, and reads a file again only when
/// its stamp (size, modification time, inode) changes and has then held still for a read. A file
/// that breaks keeps serving its last good zone; a file that is gone takes its zone with it.
public final class StaticZoneLoader: Sendable {
    public let registryDirectories: [String]
    public let namedFiles: [StaticZoneFile]
    public let configuration: ZoneConfiguration
    private let state = Mutex<[String: Loaded]>([:])
    /// Every file's stamp at the previous read: a changed file is read once its stamp has held
    /// still since then, so a file an editor is still writing in place is not served cut short
    /// (the manifest source's rule when inotify is not there to say the writer closed it).
    private let polledStamps = Mutex<[String: Stamp]>([:])
    /// The last walk of the registry directories, and the stamps of the directories it went
    /// through: while none changes, no zone file can have come or gone, and the walk is skipped
    /// (the poll runs five times a second beside the manifest source's).
    private let lastWalk = Mutex<(files: [StaticZoneFile], directories: [String: Stamp])?>(nil)

    /// What was read from one file.
    private struct Loaded: Sendable {
        var stamp: Stamp
        /// The last good zone, if the file ever had one.
        var zone: StaticZone?
        /// The error of the current content, when it is broken.
        var error: StaticZoneError?
    }

    private struct Stamp: Hashable, Sendable {
        var size: Int
        var modified: Int
        var inode: UInt64
    }

    /// - Parameter registryPaths: the registry's paths; the directories among them are searched.
    public init(registryPaths: [String], namedFiles: [StaticZoneFile], configuration: ZoneConfiguration) {
        self.registryDirectories = registryPaths.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        self.namedFiles = namedFiles
        self.configuration = configuration
    }

    /// Every zone file now, named files first, then the registry's in path order.
    public func files() -> [StaticZoneFile] {
        namedFiles + registryFiles()
    }

    private func registryFiles() -> [StaticZoneFile] {
        // A directory changed within the last second may change again within its stamp's tick
        // (as the manifest source reasons): walk again until it has settled.
        let settledBefore = (Int(Date().timeIntervalSince1970) - 1) * 1_000_000_000
        if let walk = lastWalk.withLock({ $0 }),
            walk.directories.allSatisfy({ $0.value.modified < settledBefore && Self.stamp($0.key) == $0.value })
        {
            return walk.files
        }
        var found: [StaticZoneFile] = []
        var walked: [String] = []
        for directory in registryDirectories {
            let paths = ManifestLoader.files(under: directory, directories: &walked) { name in
                name.count > ".zone".count && name.lowercased().hasSuffix(".zone")
            }
            for path in paths {
                let name = String(path[path.index(after: path.lastIndex(of: "/")!)...].dropLast(".zone".count))
                guard let origin = try? DNSName(name) else { continue }
                found.append(StaticZoneFile(origin: origin, path: path))
            }
        }
        let directories = Dictionary(walked.map { ($0, Self.stamp($0)) }, uniquingKeysWith: { first, _ in first })
        lastWalk.withLock { $0 = (found, directories) }
        return found
    }

    /// Reads the files that changed and whose stamps held still since the previous call
    /// (everything when `forced`); nil when none did. `publish` is handed the reading before another read can start, so
    /// readings from two threads (the watch, SIGHUP) are published in the order they were read.
    @discardableResult
    public func read(forced: Bool = false, publish: (StaticZoneReading) -> Void = { _ in }) -> StaticZoneReading? {
        let files = files()
        let stamps = Dictionary(files.map { ($0.path, Self.stamp($0.path)) }, uniquingKeysWith: { first, _ in first })
        let previousStamps = polledStamps.withLock { polled in
            defer { polled = stamps }
            return polled
        }
        return state.withLock { loaded -> StaticZoneReading? in
            var changed: [String] = []
            let paths = Set(files.map(\.path))
            for gone in loaded.keys where !paths.contains(gone) {
                loaded[gone] = nil
                changed.append(gone)
            }
            for file in files {
                let stamp = stamps[file.path] ?? Self.stamp(file.path)
                if !forced, loaded[file.path]?.stamp == stamp || previousStamps[file.path] != stamp { continue }
                changed.append(file.path)
                let previous = loaded[file.path]?.zone
                do throws(StaticZoneError) {
                    if let conflict = StaticZoneFile.conflict(of: file.origin, with: configuration) {
                        throw StaticZoneError(file: file.path, reason: conflict)
                    }
                    loaded[file.path] = Loaded(stamp: stamp, zone: try StaticZone.load(file: file.path, origin: file.origin))
                } catch {
                    loaded[file.path] = Loaded(stamp: stamp, zone: previous, error: error)
                }
            }
            guard !changed.isEmpty else { return nil }
            var reading = StaticZoneReading(zones: [], errors: [], changedFiles: changed.sorted(), keptFiles: [])
            var servedBy: [DNSName: String] = [:]
            for file in files {
                guard let entry = loaded[file.path] else { continue }
                if let error = entry.error {
                    reading.errors.append(error)
                    if entry.zone != nil { reading.keptFiles.append(file.path) }
                }
                guard let zone = entry.zone else { continue }
                if let first = servedBy[zone.origin] {
                    reading.errors.append(StaticZoneError(file: file.path, reason: "the zone \(zone.origin) is served from \(first) already; this file is not served"))
                    continue
                }
                servedBy[zone.origin] = file.path
                reading.zones.append(zone)
            }
            publish(reading)
            return reading
        }
    }

    private static func stamp(_ path: String) -> Stamp {
        var info = stat()
        guard stat(path, &info) == 0 else { return Stamp(size: -1, modified: -1, inode: 0) }
        return Stamp(size: Int(info.st_size), modified: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec), inode: UInt64(info.st_ino))
    }
}
