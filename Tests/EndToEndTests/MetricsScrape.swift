import Foundation

/// The samples of a scrape: `name{labels}` → value.
struct Scrape {
    var text: String
    var samples: [(name: String, labels: [String: String], value: Double)] = []

    init(_ text: String) {
        self.text = text
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            var labels: [String: String] = [:]
            let name: Substring
            if let brace = series.firstIndex(of: "{") {
                name = series[..<brace]
                for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    labels[String(parts[0])] = String(parts.count > 1 ? parts[1].dropFirst().dropLast() : "")
                }
            } else {
                name = series
            }
            samples.append((String(name), labels, value))
        }
    }

    /// The sum of the samples named `name` whose labels include `matching`.
    func sum(_ name: String, _ matching: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value } }
            .reduce(0) { $0 + $1.value }
    }
}

/// GET http://127.0.0.1:PORT/PATH with curl: the status and the body.
func httpGet(_ port: Int, _ path: String) throws -> (status: Int, body: String) {
    let result = try run("/usr/bin/curl", ["-s", "-m", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"], timeout: 10)
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
}

/// `promtool check metrics` of a scrape's text: its exit status and what it printed.
func promtoolCheck(_ text: String) throws -> (status: Int32, output: String) {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-scrape-\(UUID().uuidString).txt")
    try text.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let result = try run("/bin/sh", ["-c", "promtool check metrics < \(file.path)"])
    return (result.status, result.stdout + result.stderr)
}
