/// One `NAME=value` pair of a process environment, kept as a value so the kubelet's order survives
/// into every output format (and into JSON as `{"name": ..., "value": ...}`, the pod spec's shape).
public struct EnvironmentVariable: Hashable, Sendable, Codable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Splits an `environ` entry at its first `=`; nil when there is none (such entries are not variables).
    public init?(environEntry entry: some StringProtocol) {
        guard let separator = entry.firstIndex(of: "=") else { return nil }
        self.init(name: String(entry[..<separator]), value: String(entry[entry.index(after: separator)...]))
    }

    /// `NAME=value`, the form `execve` takes and `env` prints.
    public var description: String { "\(name)=\(value)" }
}
