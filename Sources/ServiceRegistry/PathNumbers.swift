/// File paths numbered in the order first seen, so that a table held for every object of a
/// registry keeps a 4-byte number per entry rather than a path (`ManifestSource`'s key index,
/// `FirstDefinitions`). Numbers are never taken back: a registry's files are few.
struct PathNumbers: Sendable {
    private var paths: [String] = []
    private var numbers: [String: UInt32] = [:]

    /// The number of `path`, given it on first sight.
    mutating func number(of path: String) -> UInt32 {
        // The path of the previous call, nearly always (a file's objects come together): no lookup.
        if let last = paths.last, last == path { return UInt32(paths.count - 1) }
        if let known = numbers[path] { return known }
        let number = UInt32(paths.count)
        paths.append(path)
        numbers[path] = number
        return number
    }

    subscript(number: UInt32) -> String { paths[Int(number)] }
}
