/// One manifest file as read from disk (or given in memory): its text, or why it could not be read.
struct ManifestFile: Hashable, Sendable {
    var path: String
    var contents: Result<String, ReadFailure>
    /// A JSON file not read yet: decoding reads it in chunks (`DecodedFile.streamingJSON`), so a
    /// large List is never in memory whole. `contents` is then empty.
    var streamsFromDisk = false

    init(path: String, contents: Result<String, ReadFailure>) {
        self.path = path
        self.contents = contents
    }

    /// A JSON file on disk, to be streamed when decoded.
    static func streamed(_ path: String) -> ManifestFile {
        var file = ManifestFile(path: path, contents: .success(""))
        file.streamsFromDisk = true
        return file
    }

    /// Why a file could not be read, as the user should see it.
    struct ReadFailure: Error, Hashable, Sendable {
        var reason: String

        init(reason: String) {
            self.reason = reason
        }

        init(_ failure: UTF8FileReader.Failure) {
            switch failure {
            case .notUTF8: reason = "is not UTF-8 text"
            case .unreadable(let why): reason = "cannot be read (\(why))"
            }
        }
    }
}

/// What a walk of the registry paths found.
struct ManifestListing: Sendable {
    /// Manifest files, sorted.
    var files: [String]
    /// A missing path, or a directory without manifests.
    var errors: [RegistryError]
    /// Every directory the walk read.
    var directories: [String]
}
