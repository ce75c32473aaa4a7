@testable import ServiceRegistry
import SpecSupport
import Testing

/// The fast path for YAML documents (`FlatJSONScanner.readYAMLBlock`, then `ObjectFastPath`) reads
/// what libyaml and the full decoder read, or leaves the document to them: every document it
/// answers for must come out exactly as `DecodedFile` decodes it through libyaml (one object,
/// located on the same line, no error or warning).
@Suite struct YAMLBlockFastPathTests {
    static let file = "shop.yaml"

    /// What the fast path makes of `text`, after checking it against the full parser and decoder;
    /// nil when it left the document to them.
    @discardableResult
    static func readChecked(_ text: String, _ comment: @autoclosure () -> String = "") -> RegistryObject? {
        let bytes = Array(text.utf8)
        var scanner = FlatJSONScanner()
        let fast = bytes.withUnsafeBufferPointer { ObjectFastPath.decodeYAMLBlock($0, file: file, firstLine: 1, scanner: &scanner) }
        guard let fast else { return nil }
        let full = bytes.withUnsafeBufferPointer { DecodedFile(path: file, yamlUTF8: $0) }
        guard full.objects.count == 1, full.errors.isEmpty, full.skipped.isEmpty, full.rejected.isEmpty, let object = full.objects.first else {
            Issue.record("the fast path read a document the full decoder rejects, warns about or reads otherwise: \(comment())\n\(text)\n\(full.errors)")
            return fast
        }
        #expect(fast.reference == object.reference, "\(comment())\n\(text)")
        #expect(fast.location == object.location, "\(comment())\n\(text)")
        #expect(fast.content == object.content, "\(comment())\n\(text)\nfast: \(fast.content)\nfull: \(object.content)")
        return fast
    }

    /// The corpus of the JSON fast path, printed as kubectl prints YAML (a list at its key's
    /// indentation, a list's mappings compact after their dash), some after a `---` line or a
    /// comment: each is read by the fast path, as the full parser reads it.
    @Test(arguments: ObjectFastPathTests.corpus.indices)
    func aDocumentAsKubectlPrintsItIsReadByTheFastPathAsLibyamlReadsIt(index: Int) {
        var random = SplitMix(seed: UInt64(index))
        let value = ObjectFastPathTests.corpus[index]
        // A multi-line string (the last-applied configuration) is a block scalar, the full parser's.
        let hasMultiLineString = value.text().contains("\\n")
        for prefix in ["", "---\n", "# generated\n\n---\n"] {
            let text = prefix + value.blockYAML(quoting: &random)
            let read = Self.readChecked(text, "corpus \(index)") != nil
            #expect(read != hasMultiLineString, "\(text)")
        }
    }

    /// Seeded random edits of those documents, line by line (indentation moved, lines dropped or
    /// repeated, comments, values replaced by what YAML types otherwise or cannot be read here):
    /// whatever the fast path reads must be what the full parser reads. Both sides must be reached.
    @Test(arguments: 0..<6)
    func anEditedDocumentIsReadAsLibyamlReadsItOrLeftToIt(seed: Int) {
        var random = SplitMix(seed: UInt64(seed) &+ 0xB10C)
        let values = ["80", "\"80\"", "'web'", "\"web\"", "yes", "No", "~", "null", "", "[]", "{}", "[a]", "{a: b}", "&a web", "*a", "!!str 80",
                      "|", ">", "0x1F", "1e3", "-1", "+80", "\"a\\\"b\"", "'it''s'", "a: b", "http://x:80", "caf\u{E9}", "web # note",
                      "10.96.0.10", "None", "TCP", "\"\"", "'", "\"x", "- x", ": x", "? x", "%x", "@x", "a\tb"]
        var (read, left) = (0, 0)
        for round in 0..<600 {
            let value = ObjectFastPathTests.corpus[round % ObjectFastPathTests.corpus.count]
            var lines = value.blockYAML(quoting: &random).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                let index = Int.random(in: 0..<max(1, lines.count - 1), using: &random)
                switch Int.random(in: 0..<9, using: &random) {
                case 0: lines.remove(at: index)
                case 1: lines.insert(lines[index], at: index)
                case 2: lines[index] = String(repeating: " ", count: Int.random(in: 1...3, using: &random)) + lines[index]
                case 3: if lines[index].hasPrefix(" ") { lines[index].removeFirst() }
                case 4: lines.insert(["# note", "  # note", "", "---", "...", "\t", "%YAML 1.2"].randomElement(using: &random)!, at: index)
                case 5: lines[index] += [" # note", " ", ":", " x", "\r"].randomElement(using: &random)!
                default:
                    // The value after the line's first ": ", or a whole item's.
                    let line = lines[index]
                    if let colon = line.range(of: ": ") {
                        lines[index] = String(line[..<colon.upperBound]) + values.randomElement(using: &random)!
                    } else if let dash = line.range(of: "- ") {
                        lines[index] = String(line[..<dash.upperBound]) + values.randomElement(using: &random)!
                    }
                }
            }
            if Self.readChecked(lines.joined(separator: "\n"), "seed \(seed), round \(round)") != nil { read += 1 } else { left += 1 }
        }
        #expect(read > 100 && left > 100, "read \(read), left \(left)")
    }

    /// A document of a larger file is located on the file's lines, its first key's line.
    @Test func aDocumentOfAFileIsLocatedOnTheFileLineOfItsFirstKey() {
        var random = SplitMix(seed: 7)
        let first = ObjectFastPathTests.corpus[2].blockYAML(quoting: &random)
        let second = ObjectFastPathTests.corpus[3].blockYAML(quoting: &random)
        let text = first + "---\n# the next one\n" + second
        let split = YAMLDocuments(text)
        #expect(split.documents.count == 2)
        let decoded = split.documents.map { split.decoded($0, path: Self.file) }
        let whole = DecodedFile(ManifestFile(path: Self.file, contents: .success(text)))
        #expect(decoded.flatMap(\.objects).map(\.location) == whole.objects.map(\.location))
        #expect(decoded.flatMap(\.objects).map(\.location.line) == [1, first.split(separator: "\n").count + 3])
    }
}

extension JSONValue {
    /// The value as kubectl prints YAML: two spaces a level, a list at its key's indentation, a
    /// list's mappings compact after their dash. Strings plain where YAML types them as strings,
    /// else (and at random) quoted; nulls written as `null`, `~` or nothing, at random.
    func blockYAML(quoting random: inout SplitMix) -> String {
        lines(indent: "", random: &random).joined(separator: "\n") + "\n"
    }

    private func lines(indent: String, random: inout SplitMix) -> [String] {
        switch self {
        case .object(let members):
            return members.flatMap { member -> [String] in
                let key = indent + member.key + ":"
                switch member.value {
                case .object(let inner) where !inner.isEmpty:
                    return [key] + member.value.lines(indent: indent + "  ", random: &random)
                case .array(let items) where !items.isEmpty:
                    return [key] + member.value.lines(indent: indent, random: &random)
                default:
                    let scalar = member.value.scalarYAML(random: &random)
                    return [scalar.isEmpty ? key : key + " " + scalar]
                }
            }
        case .array(let items):
            return items.flatMap { item -> [String] in
                switch item {
                case .object(let inner) where !inner.isEmpty:
                    var lines = item.lines(indent: indent + "  ", random: &random)
                    lines[0] = indent + "- " + lines[0].dropFirst(indent.count + 2)
                    return lines
                case .array(let inner) where !inner.isEmpty:
                    return [indent + "-"] + item.lines(indent: indent + "  ", random: &random)
                default:
                    let scalar = item.scalarYAML(random: &random)
                    return [scalar.isEmpty ? indent + "-" : indent + "- " + scalar]
                }
            }
        default:
            return [indent + scalarYAML(random: &random)]
        }
    }

    private func scalarYAML(random: inout SplitMix) -> String {
        switch self {
        case .null: return ["null", "~", ""].randomElement(using: &random)!
        case .bool(let value): return value ? "true" : "false"
        case .number(let text): return text
        case .array: return "[]"
        case .object: return "{}"
        case .string(let text):
            let plain = Array(text.utf8).withUnsafeBufferPointer { PlainScalar.type(of: $0).kind == .string }
                && !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
                && !"-?:,[]{}#&*!|>'\"%@` ".unicodeScalars.contains(text.unicodeScalars.first!)
                && !text.hasSuffix(" ") && !text.hasSuffix(":") && !text.contains(": ") && !text.contains(" #")
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !text.contains("'") && !text.contains("\n"): return "'" + text + "'"
            case 1: return JSONValue.string(text).text()
            default: return plain ? text : JSONValue.string(text).text()
            }
        }
    }
}
