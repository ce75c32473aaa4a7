import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Reads a registry from Kubernetes manifests as kubectl writes them (YAML, multi-document, JSON,
/// `List`s) in files and directories, and builds a validated snapshot with every error collected.
public enum ManifestLoader {
    /// File name extensions read when walking a directory (compared case-insensitively).
    public static let manifestExtensions: Set<String> = ["yaml", "yml", "json"]

    /// Loads files and directories (recursively; `*.yaml`, `*.yml`, `*.json`, sorted for
    /// determinism). Objects of other kinds are skipped with one `info` line each.
    public static func load(
        paths: [String],
        options: RegistryOptions = .init(),
        serial: UInt32 = 1,
        logger: Logger? = nil
    ) -> RegistryLoadResult {
        let (filePaths, pathErrors) = manifestFiles(in: paths)
        // A streamed file whose objects had to be retracted (broken, or no List after all) is rare
        // enough to start again with every file read whole.
        let load = load(filePaths, pathErrors: pathErrors, options: options, serial: serial, streamingLargeJSON: true)
            ?? load(filePaths, pathErrors: pathErrors, options: options, serial: serial, streamingLargeJSON: false)!
        return finish(load, serial: serial, files: filePaths, logger: logger)
    }

    /// Files are decoded a few ahead on other threads; the store takes them in path order. A
    /// large JSON file is decoded as the store takes it instead (`StreamedJSONFile`). Nil when
    /// such a file retracted what it gave.
    private static func load(
        _ filePaths: [String], pathErrors: [RegistryError], options: RegistryOptions, serial: UInt32, streamingLargeJSON: Bool
    ) -> RegistryLoad? {
        var load = RegistryLoad(options: options, serial: serial &- 1, pathErrors: pathErrors)
        var retracted = false
        ReadAhead.forEach(filePaths, work: { path -> DecodedFile? in
            streamingLargeJSON && StreamedJSONFile.streams(path) ? nil : DecodedFile(read(path))
        }, consume: { path, decoded in
            guard !retracted else { return }
            if let decoded { return load.add(decoded) }
            let (rest, _, retraction) = StreamedJSONFile.decode(at: path) { load.stage($0) }
            if retraction { retracted = true } else { load.add(rest) }
        })
        return retracted ? nil : load
    }

    /// Loads from in-memory text (for tests); `name` stands for the file name in locations and
    /// decides the format (`.json` is read as JSON, anything else as YAML).
    public static func load(
        text: String,
        name: String,
        options: RegistryOptions = .init(),
        serial: UInt32 = 1
    ) -> RegistryLoadResult {
        load(files: [ManifestFile(path: name, contents: .success(text))], paths: [name], pathErrors: [], options: options, serial: serial, logger: nil)
    }

    /// Loads from several in-memory files at once, as if they were one directory.
    public static func load(
        texts: [(name: String, text: String)],
        options: RegistryOptions = .init(),
        serial: UInt32 = 1
    ) -> RegistryLoadResult {
        let files = texts.map { ManifestFile(path: $0.name, contents: .success($0.text)) }.sorted { $0.path < $1.path }
        return load(files: files, paths: files.map(\.path), pathErrors: [], options: options, serial: serial, logger: nil)
    }

    /// `files` may be lazy: each file's text is read, parsed and dropped before the next, so a large
    /// registry never holds all its text at once. `paths` are the same files' paths.
    ///
    /// The registry is then built the way every change is applied: one `replaceAll` into an empty
    /// store, so a registry loaded from scratch and one kept up to date change by change agree.
    static func load(
        files: some Sequence<ManifestFile>,
        paths: [String],
        pathErrors: [RegistryError],
        options: RegistryOptions,
        serial: UInt32,
        logger: Logger?
    ) -> RegistryLoadResult {
        var load = RegistryLoad(options: options, serial: serial &- 1, pathErrors: pathErrors)
        for file in files { load.add(DecodedFile(file)) }
        return finish(load, serial: serial, files: paths, logger: logger)
    }

    private static func finish(_ load: consuming RegistryLoad, serial: UInt32, files: [String], logger: Logger?) -> RegistryLoadResult {
        let (_, result) = load.finish(serial: serial, files: files.sorted())
        if let logger { logSkipped(result.skipped, logger: logger) }
        return result
    }

    /// One `info` line per object of a kind ClusterDNS does not read.
    static func logSkipped(_ skipped: [SkippedObject], logger: Logger) {
        for object in skipped {
            logger.info("skipping \(object.reference) (\(object.apiVersion)) at \(object.location): ClusterDNS reads only Services, EndpointSlices, Endpoints, Pods and Namespaces")
        }
    }

    /// Expands paths into the manifest files they hold, sorted; a missing path, or a directory
    /// without manifests, is an error. A file named explicitly is read whatever its extension.
    static func manifestFiles(in paths: [String]) -> (files: [String], errors: [RegistryError]) {
        let listing = listing(of: paths)
        return (listing.files, listing.errors)
    }

    /// The files of `paths` (sorted), the errors a missing path or an empty directory give, and
    /// every directory the walk read, so a watcher can tell from their stamps whether files came or went.
    static func listing(of paths: [String]) -> ManifestListing {
        var files: Set<String> = []
        var errors: [RegistryError] = []
        var directories: [String] = []
        if paths.isEmpty {
            errors.append(RegistryError(code: .noManifests, reason: "no registry paths given"))
        }
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                errors.append(RegistryError(code: .unreadableFile, reason: "no such file or directory", location: SourceLocation(file: path)))
                continue
            }
            if isDirectory.boolValue {
                let found = Self.files(under: path, directories: &directories, matching: isManifestName)
                if found.isEmpty {
                    errors.append(RegistryError(code: .noManifests, reason: "directory holds no .yaml, .yml or .json files", location: SourceLocation(file: path)))
                }
                files.formUnion(found)
            } else {
                files.insert(path)
            }
        }
        return ManifestListing(files: files.sorted(), errors: errors, directories: directories)
    }

    /// Whether a directory walk takes a file of this name as a manifest (by its extension).
    static func isManifestName(_ name: some StringProtocol) -> Bool {
        name.lastIndex(of: ".").map { manifestExtensions.contains(name[name.index(after: $0)...].lowercased()) } ?? false
    }

    /// The files below `directory` whose names `matches` accepts, in path order: recursively (at
    /// most 32 deep), hidden entries skipped. Every directory walked is appended to `directories`,
    /// so a watcher can tell from their stamps when to walk again. The static zones' `*.zone`
    /// files are found by the same walk.
    public static func files(under directory: String, directories: inout [String], matching matches: (String) -> Bool) -> [String] {
        walk(directory: directory, depth: 0, directories: &directories, matching: matches)
    }

    private static func walk(directory: String, depth: Int, directories: inout [String], matching matches: (String) -> Bool) -> [String] {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        guard depth < 32, let entries = visibleEntries(of: directory, base: base) else { return [] }
        directories.append(directory)
        var found: [String] = []
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            let path = base + "/" + entry.name
            if entry.isDirectory {
                found += walk(directory: path, depth: depth + 1, directories: &directories, matching: matches)
            } else if matches(entry.name) {
                found.append(path)
            }
        }
        return found
    }

    /// A directory's entries but the hidden ones, each with whether it is a directory (a link
    /// followed; a dangling one left out). One readdir(3) pass that takes the type from `d_type`:
    /// Foundation's listing and a `fileExists` per entry were 5.8 % of the watcher's work for each
    /// rename into a directory of 101 files, which every rename makes it walk again.
    /// - Parameter base: `directory` without a trailing slash, to which an entry's name is joined.
    private static func visibleEntries(of directory: String, base: String) -> [(name: String, isDirectory: Bool)]? {
        guard let handle = opendir(directory) else { return nil }
        defer { closedir(handle) }
        var entries: [(name: String, isDirectory: Bool)] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard !name.hasPrefix(".") else { continue }
            switch Int(entry.pointee.d_type) {
            case Int(DT_DIR):
                entries.append((name, true))
            case Int(DT_REG):
                entries.append((name, false))
            default:
                // A link, or a file system that does not say: stat(2) follows links.
                var info = stat()
                guard stat(base + "/" + name, &info) == 0 else { continue }
                entries.append((name, info.st_mode & S_IFMT == S_IFDIR))
            }
        }
        return entries
    }

    /// A file to decode: JSON is streamed from disk as it is decoded, YAML is read whole.
    static func read(_ path: String) -> ManifestFile {
        ManifestParser.isJSONFile(path) ? .streamed(path) : readWhole(path)
    }

    /// A file's whole text.
    static func readWhole(_ path: String) -> ManifestFile {
        ManifestFile(path: path, contents: UTF8FileReader.read(path).mapError(ManifestFile.ReadFailure.init))
    }
}
