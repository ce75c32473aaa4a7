/// What one load of a registry produced: the snapshot of everything valid, and every problem found.
public struct RegistryLoadResult: Sendable {
    /// Built from every valid object; objects with errors are left out.
    public var snapshot: RegistrySnapshot
    /// Empty when the registry is valid.
    public var errors: [RegistryError]
    /// Objects of kinds the registry does not read.
    public var skipped: [SkippedObject]
    /// The files read, sorted.
    public var files: [String]
    public var summary: RegistrySummary

    public init(
        snapshot: RegistrySnapshot,
        errors: [RegistryError],
        skipped: [SkippedObject],
        files: [String],
        summary: RegistrySummary
    ) {
        self.snapshot = snapshot
        self.errors = errors
        self.skipped = skipped
        self.files = files
        self.summary = summary
    }

    public var isValid: Bool { errors.isEmpty }

    /// One line per error, as `clusterdns check` writes them to stderr.
    public var errorLines: [String] { errors.map(\.description) }

    /// The whole report as `clusterdns check` prints it: the error lines (stderr), then the summary
    /// (stdout). Other commands that must explain a broken registry print the same.
    public var report: String {
        (errorLines + [summary.description]).joined(separator: "\n")
    }
}
