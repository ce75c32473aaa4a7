import Foundation

/// How `clusterdns env` writes variables: each format is exactly what its reader accepts back.
public enum EnvironmentFormat: String, Hashable, Sendable, CaseIterable {
    /// `export NAME='value'` lines, for `eval` or `. ./file` in any POSIX shell.
    case shell
    /// `NAME=value` lines, as `docker run --env-file` reads them: no quoting, value verbatim to the end of the line.
    case envFile = "env-file"
    /// `[{"name": ..., "value": ...}]`, the shape of a container's `env` in a pod spec.
    case json

    /// The whole output, ending in a newline unless there is nothing to write in a line format.
    public func render(_ variables: [EnvironmentVariable]) throws(ServiceEnvError) -> String {
        switch self {
        case .shell:
            return try variables.map { variable throws(ServiceEnvError) in
                try Self.shellLine(variable) + "\n"
            }.joined()
        case .envFile:
            return try variables.map { variable throws(ServiceEnvError) in
                try Self.envFileLine(variable) + "\n"
            }.joined()
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            // Encoding [String] pairs cannot fail; a failure here would be a Foundation bug.
            let data = (try? encoder.encode(variables)) ?? Data("[]".utf8)
            return String(decoding: data, as: UTF8.self) + "\n"
        }
    }

    /// `export NAME='value'`; a `'` inside the value becomes `'\''`, the only character single quotes cannot hold.
    static func shellLine(_ variable: EnvironmentVariable) throws(ServiceEnvError) -> String {
        guard isPOSIXName(variable.name) else {
            throw .unrepresentable(variable, format: "shell", why: "a shell variable name is letters, digits and '_', not starting with a digit")
        }
        guard !variable.value.utf8.contains(0) else {
            throw .unrepresentable(variable, format: "shell", why: "the value contains a NUL byte")
        }
        return "export \(variable.name)='\(variable.value.replacing("'", with: #"'\''"#))'"
    }

    /// `NAME=value` with the limits of docker's env-file reader: it trims leading white space, skips
    /// `#` lines, rejects white space in names and reads one line per variable.
    static func envFileLine(_ variable: EnvironmentVariable) throws(ServiceEnvError) -> String {
        let name = variable.name
        guard !name.isEmpty, !name.hasPrefix("#"), !name.contains("="),
              !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "\0" }) else {
            throw .unrepresentable(variable, format: "env-file", why: "the name is empty, starts with '#', or holds '=' or white space")
        }
        guard !variable.value.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else {
            throw .unrepresentable(variable, format: "env-file", why: "the value holds a line break or NUL")
        }
        return "\(name)=\(variable.value)"
    }

    static func isPOSIXName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_")
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }
}
