import Foundation
import Yams

/// Turns the text of one manifest file into documents: YAML through Yams's composer (which keeps
/// line marks), JSON through JSONDecoder when Yams cannot read it. Syntax errors become
/// `RegistryError`s with the line where parsing stopped.
enum ManifestParser {
    /// The documents of a file (empty documents dropped), or the syntax error that stopped parsing.
    /// Documents before a YAML syntax error are still returned, so their own errors show too.
    static func parse(text: String, file: String) -> (documents: [ManifestNode], errors: [RegistryError]) {
        if isJSONFile(file) { return parseJSON(text: text, file: file) }
        return parseYAML(text: text, file: file)
    }

    static func isJSONFile(_ file: String) -> Bool {
        file.lowercased().hasSuffix(".json")
    }

    private static func parseYAML(text: String, file: String) -> (documents: [ManifestNode], errors: [RegistryError]) {
        var documents: [ManifestNode] = []
        do {
            var sequence = try Yams.compose_all(yaml: text, .basic)
            while let node = sequence.next() {
                let converted = convert(node)
                if !converted.isNull { documents.append(converted) }
            }
            if let error = sequence.error { return (documents, [syntaxError(error, file: file)]) }
        } catch {
            return (documents, [syntaxError(error, file: file)])
        }
        return (documents, [])
    }

    /// JSON is YAML, and Yams gives line numbers; JSONDecoder is the judge of validity and the
    /// fallback for the rare JSON libyaml rejects (tabs, `\/`).
    private static func parseJSON(text: String, file: String) -> (documents: [ManifestNode], errors: [RegistryError]) {
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            return ([], [RegistryError(code: .invalidJSON, reason: jsonReason(error), location: SourceLocation(file: file))])
        }
        if let node = try? Yams.compose(yaml: text, .basic) {
            return ([convert(node)], [])
        }
        return ([json.node], [])
    }

    private static func convert(_ node: Node) -> ManifestNode {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            return ManifestNode(PlainScalar.value(of: scalar), line: line)
        case .mapping(let mapping):
            let pairs = mapping.map { pair in
                (key: pair.key.string ?? pair.key.scalar?.string ?? "", value: convert(pair.value))
            }
            return ManifestNode(.mapping(pairs), line: line)
        case .sequence(let sequence):
            return ManifestNode(.sequence(sequence.map(convert)), line: line)
        case .alias:
            return ManifestNode(.null, line: line)
        }
    }

    private static func syntaxError(_ error: Error, file: String) -> RegistryError {
        var line: Int?
        var problem = "\(error)"
        if let yamlError = error as? YamlError {
            switch yamlError {
            case .scanner(let context, let text, let mark, _),
                 .parser(let context, let text, let mark, _),
                 .composer(let context, let text, let mark, _):
                line = mark.line
                problem = text
                if let context { problem += " (\(context.text) at line \(context.mark.line))" }
            case .reader(let text, _, _, _):
                problem = text
            default:
                break
            }
        }
        return RegistryError(
            code: .yamlSyntax,
            reason: "not valid YAML: \(problem)",
            location: SourceLocation(file: file, line: line)
        )
    }

    private static func jsonReason(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = context.underlyingError.map { ($0 as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\($0)" }
            return "not valid JSON: " + (underlying ?? context.debugDescription)
        }
        return "not valid JSON: \(error)"
    }
}

/// YAML's implicit types for plain scalars (null, bool, int, float), decided by a few string
/// checks. Yams's default resolver does the same with a regular expression per scalar, which made
/// it most of the time spent loading a large registry; parsing runs with the basic resolver and
/// this instead. Quoted scalars are always strings, as in YAML.
enum PlainScalar {
    static func value(of scalar: Node.Scalar) -> ManifestNode.Value {
        let text = scalar.string
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL":
            return .null
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON":
            return .bool(true, text: text)
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF":
            return .bool(false, text: text)
        default:
            break
        }
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
            || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return .string(text) }
        if let value = Int(text.replacingOccurrences(of: "_", with: "")) { return .int(value, text: text) }
        if text.hasPrefix("0x"), let value = Int(text.dropFirst(2), radix: 16) { return .int(value, text: text) }
        if text.contains("."), let value = Double(text) { return .double(value, text: text) }
        return .string(text)
    }
}
