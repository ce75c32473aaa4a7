/// Why a static zone file cannot be served, with where: the file, and the line when the parser
/// (libldns) or the check knows it. Printed as `FILE:LINE: reason`, as compilers print errors.
public struct StaticZoneError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem is the file as a whole (no SOA, an origin already served).
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int? = nil, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)"
    }
}
