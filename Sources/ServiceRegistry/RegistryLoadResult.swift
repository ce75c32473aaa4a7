/// What one load of a registry produced: the snapshot of everything valid, and every problem found.
public struct RegistryLoadResult: Sendable {
    /// Built from every object without errors; objects with warnings only are in it.
    public var snapshot: RegistrySnapshot
    /// Every problem, errors and warnings, in the order found; empty when the registry is clean.
    public var errors: [RegistryError]
    /// Objects of kinds the registry does not read.
    public var skipped: [SkippedObject]
    /// The files read, sorted.
    public var files: [String]
    /// Counted when asked, not at every load: it walks every Service, and only `check` and a
    /// broken registry's report print it (30 ms of a 50k-Service start before the first answer).
    public var summary: RegistrySummary {
        var summary = RegistrySummary(snapshot: snapshot, files: files.count, skippedObjects: skipped.count)
        let warningCount = errors.count { $0.isWarning }
        summary.warnings = warningCount
        summary.errors = errors.count - warningCount
        return summary
    }

    public init(snapshot: RegistrySnapshot, errors: [RegistryError], skipped: [SkippedObject], files: [String]) {
        self.snapshot = snapshot
        self.errors = errors
        self.skipped = skipped
        self.files = files
    }

    /// The problems that left an object out.
    public var hardErrors: [RegistryError] { errors.filter { !$0.isWarning } }

    /// The departures from API validation that were served anyway.
    public var warnings: [RegistryError] { errors.filter(\.isWarning) }

    /// No errors; warnings are allowed.
    public var isValid: Bool { isValid(strict: false) }

    /// `strict` treats warnings as errors, as `clusterdns check --strict` does.
    public func isValid(strict: Bool) -> Bool {
        strict ? errors.isEmpty : !errors.contains { !$0.isWarning }
    }

    /// One line per error and warning, as `clusterdns check` writes them to stderr.
    public var errorLines: [String] { errors.map(\.description) }

    /// The whole report as `clusterdns check` prints it: the error and warning lines (stderr), then
    /// the summary (stdout). Other commands that must explain a broken registry print the same.
    public var report: String {
        (errorLines + [summary.description]).joined(separator: "\n")
    }
}
