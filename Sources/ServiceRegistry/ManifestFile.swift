/// One manifest file as read from disk (or given in memory): its text, or why it could not be read.
struct ManifestFile: Hashable, Sendable {
    var path: String
    var contents: Result<String, ReadFailure>

    /// Why a file could not be read, as the user should see it.
    struct ReadFailure: Error, Hashable, Sendable {
        var reason: String
    }
}
