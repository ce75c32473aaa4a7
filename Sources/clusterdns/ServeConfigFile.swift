import Foundation
import Yams

/// `serve --config FILE`: a YAML mapping whose keys are serve's flag names without the dashes, so
/// a ConfigMap can hold the configuration a Deployment would otherwise spell as arguments:
///
/// ```yaml
/// listen: 0.0.0.0:53
/// registry: [/etc/cluster/a.yaml, /etc/cluster/b]
/// http-listen: 0.0.0.0:9153
/// lameduck: 5
/// ```
///
/// The file's settings become arguments placed before the command line's, and a key also given on
/// the command line is dropped from the file, so flags override the file (repeatable ones too).
struct ServeConfigFile: Equatable {
    /// `--key value` pairs, in the file's order; a list gives one pair per element.
    var settings: [(key: String, values: [String])]

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.settings.map(\.key) == rhs.settings.map(\.key) && lhs.settings.map(\.values) == rhs.settings.map(\.values)
    }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Invalid(description: "--config \(path): cannot be read (\(error.localizedDescription))")
        }
        try self.init(yaml: text, path: path)
    }

    init(yaml text: String, path: String) throws {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw Invalid(description: "--config \(path): not YAML: \(error)")
        }
        guard let node else {
            settings = []
            return
        }
        guard let mapping = node.mapping else {
            throw Invalid(description: "--config \(path): expected a mapping of flag names to values (listen: 127.0.0.1:53), found \(node.kindName)")
        }
        var settings: [(String, [String])] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, !key.isEmpty, !key.hasPrefix("-") else {
                throw Invalid(description: "--config \(path):\(keyNode.mark?.line ?? 0): a key must be a flag name without dashes (listen, registry, http-listen ...)")
            }
            guard key != "config" else {
                throw Invalid(description: "--config \(path):\(keyNode.mark?.line ?? 0): config cannot name another config file")
            }
            if let scalar = value.scalar {
                settings.append((key, [scalar.string]))
            } else if let sequence = value.sequence {
                var values: [String] = []
                for element in sequence {
                    guard let scalar = element.scalar else {
                        throw Invalid(description: "--config \(path):\(element.mark?.line ?? 0): \(key): a list of plain values is expected")
                    }
                    values.append(scalar.string)
                }
                settings.append((key, values))
            } else {
                throw Invalid(description: "--config \(path):\(value.mark?.line ?? 0): \(key): expected a value or a list of values, found a mapping")
            }
        }
        self.settings = settings
    }

    /// `arguments` (serve's, after the subcommand) with the file's settings put first, less those
    /// the command line also sets. `--config PATH` itself stays where it is.
    func arguments(before arguments: [String]) -> [String] {
        let given = Set(arguments.compactMap { argument -> String? in
            guard argument.hasPrefix("--") else { return nil }
            return String(argument.dropFirst(2).split(separator: "=", maxSplits: 1).first ?? "")
        })
        var expanded: [String] = []
        for (key, values) in settings where !given.contains(key) {
            // A switch (autopath: true) is the bare flag; false leaves it off.
            if values == ["true"] {
                expanded.append("--\(key)")
                continue
            }
            if values == ["false"] { continue }
            for value in values { expanded += ["--\(key)", value] }
        }
        return expanded + arguments
    }

    /// Serve's arguments with the config file they name (if any) expanded into them.
    static func expand(serveArguments arguments: [String]) throws -> [String] {
        guard let path = configPath(in: arguments) else { return arguments }
        return try ServeConfigFile(path: path).arguments(before: arguments)
    }

    /// The value of `--config PATH` or `--config=PATH`.
    static func configPath(in arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--config", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--config=") { return String(argument.dropFirst("--config=".count)) }
        }
        return nil
    }
}

extension ServeConfigFile {
    /// The settings a SIGHUP applies to the running server: the zones' own.
    static let zoneSettings: Set<String> = ["domain", "ttl", "pods", "external-zone"]

    /// Each flag's values in serve's `arguments`, by flag name (a switch has none): what a
    /// configuration sets, so that two can be compared flag by flag, whatever the flag.
    static func settings(of arguments: [String]) -> [String: [String]] {
        var settings: [String: [String]] = [:]
        var current: String?
        for argument in arguments {
            if argument.hasPrefix("--") {
                let parts = argument.dropFirst(2).split(separator: "=", maxSplits: 1).map(String.init)
                current = parts.first ?? ""
                settings[current!, default: []] += parts.dropFirst()
            } else if let current {
                settings[current, default: []].append(argument)
            }
        }
        settings["config"] = nil
        return settings
    }

    /// The flags whose values differ between two configurations, sorted.
    static func changedSettings(from running: [String: [String]], to reread: [String: [String]]) -> [String] {
        Set(running.keys).union(reread.keys).filter { running[$0] != reread[$0] }.sorted()
    }
}

extension Node {
    fileprivate var kindName: String {
        switch self {
        case .scalar: return "a single value"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .alias: return "an alias"
        }
    }
}
