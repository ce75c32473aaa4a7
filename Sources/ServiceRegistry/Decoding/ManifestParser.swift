import Foundation

/// Turns the text of one manifest file into documents: YAML through libyaml's events (which keep
/// line marks), JSON through JSONDecoder when libyaml cannot read it. Syntax errors become
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
        let (composed, error) = YAMLComposer.documents(in: text)
        let documents = composed.filter { !$0.isNull }
        if let error { return (documents, [syntaxError(error, file: file)]) }
        return (documents, [])
    }

    /// JSON is YAML, and libyaml gives line numbers; JSONDecoder is the judge of validity and the
    /// fallback for the rare JSON libyaml rejects (tabs, `\/`).
    private static func parseJSON(text: String, file: String) -> (documents: [ManifestNode], errors: [RegistryError]) {
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            return ([], [RegistryError(code: .invalidJSON, reason: jsonReason(error), location: SourceLocation(file: file))])
        }
        let (composed, error) = YAMLComposer.documents(in: text)
        if error == nil, composed.count == 1 {
            return (composed, [])
        }
        return ([json.node], [])
    }

    private static func syntaxError(_ error: YAMLSyntaxError, file: String) -> RegistryError {
        RegistryError(
            code: .yamlSyntax,
            reason: "not valid YAML: \(error.problem)",
            location: SourceLocation(file: file, line: error.line)
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
/// it most of the time spent loading a large registry. Quoted scalars are always strings, as in YAML.
enum PlainScalar {
    static func value(of text: String) -> ManifestNode.Value {
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
        let digits = text.utf8.contains(UInt8(ascii: "_")) ? text.filter { $0 != "_" } : text
        if let value = Int(digits) { return .int(value, text: text) }
        if text.hasPrefix("0x"), let value = Int(text.dropFirst(2), radix: 16) { return .int(value, text: text) }
        if text.utf8.contains(UInt8(ascii: ".")), let value = Double(text) { return .double(value, text: text) }
        return .string(text)
    }
}
