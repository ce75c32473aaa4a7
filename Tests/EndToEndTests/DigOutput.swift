import Foundation

/// The parts of a dig, kdig or drill answer a user reads: status, flags and the answer section.
struct DigOutput: CustomStringConvertible {
    var status: String
    var flags: Set<String>
    /// Answer lines, whitespace collapsed, owner names lower-cased for comparison.
    var answers: [String]
    var additional: [String]
    var authority: [String]
    /// The question name as the response spells it (dig's QUESTION SECTION), when printed.
    var question: String?
    var raw: String

    /// Parses the three tools' formats: `status: NOERROR` (dig), `status: NOERROR;` (kdig), `rcode: NOERROR` (drill).
    init(parsing text: String) throws {
        raw = text
        guard let statusRange = text.range(of: #"(status|rcode): [A-Z]+"#, options: .regularExpression) else {
            throw ProcessFailure(description: "no status in output:\n\(text)")
        }
        status = String(text[statusRange].split(separator: " ").last!)
        if let flagsRange = text.range(of: #";; [Ff]lags: [a-z ]*"#, options: .regularExpression) {
            flags = Set(text[flagsRange].dropFirst(10).split(separator: " ").map(String.init))
        } else {
            flags = []
        }
        answers = Self.section("ANSWER", in: text)
        additional = Self.section("ADDITIONAL", in: text)
        authority = Self.section("AUTHORITY", in: text)
        question = Self.questionName(in: text)
    }

    private static func questionName(in text: String) -> String? {
        let lines = text.split(separator: "\n")
        guard let index = lines.firstIndex(where: { $0.contains("QUESTION SECTION:") }), index + 1 < lines.count else { return nil }
        return lines[index + 1].dropFirst().split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init)
    }

    private static func section(_ name: String, in text: String) -> [String] {
        var lines: [String] = []
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.contains("\(name) SECTION:") {
                inside = true
                continue
            }
            guard inside else { continue }
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix(";;") { break }
            if line.hasPrefix(";") { continue }
            lines.append(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " "))
        }
        return lines
    }

    /// The RDATA of answers of one type (`A` → ["10.96.0.1"]).
    func data(ofType type: String) -> [String] {
        answers.compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 5, fields[3] == type else { return nil }
            return fields[4...].joined(separator: " ")
        }
    }

    var description: String { raw }
}

/// The DNS clients we check against; each must read our answers the same way.
enum Client: String, CaseIterable, CustomStringConvertible {
    case dig, kdig, drill
    var description: String { rawValue }

    func arguments(port: Int, name: String, type: String, tcp: Bool) -> [String] {
        switch self {
        case .dig: return ["@127.0.0.1", "-p", String(port), name, type, "+tries=1", "+time=3"] + (tcp ? ["+tcp"] : [])
        case .kdig: return ["@127.0.0.1", "-p", String(port), name, type, "+retry=0", "+time=3"] + (tcp ? ["+tcp"] : [])
        case .drill: return ["-p", String(port)] + (tcp ? ["-t"] : []) + [name, type, "@127.0.0.1"]
        }
    }

    func query(port: Int, _ name: String, _ type: String = "A", tcp: Bool = false, extra: [String] = []) throws -> DigOutput {
        let result = try run(rawValue, arguments(port: port, name: name, type: type, tcp: tcp) + extra, timeout: 20)
        return try DigOutput(parsing: result.stdout + result.stderr)
    }
}
