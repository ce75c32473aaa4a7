/// Turns the text of one manifest file into documents: YAML through libyaml's events, JSON
/// through `JSONComposer`; both keep line marks and build the same tree for the same value. Syntax
/// errors become `RegistryError`s with the line where parsing stopped.
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
        var text = text
        return text.withUTF8 { parseYAML(utf8: $0, file: file) }
    }

    /// YAML given as its UTF-8 bytes: a document cut from a file, parsed without a string of its own.
    static func parseYAML(utf8: UnsafeBufferPointer<UInt8>, file: String) -> (documents: [ManifestNode], errors: [RegistryError]) {
        let (composed, error) = YAMLComposer.documents(in: utf8)
        let documents = composed.filter { !$0.isNull }
        if let error { return (documents, [syntaxError(error, file: file)]) }
        return (documents, [])
    }

    /// One value per file, as `kubectl get -o json` writes it (an object or a `List`); a `null` is
    /// an empty file, as an empty YAML document is.
    private static func parseJSON(text: String, file: String) -> (documents: [ManifestNode], errors: [RegistryError]) {
        switch JSONComposer.document(in: text) {
        case .success(let document):
            return (document.isNull ? [] : [document], [])
        case .failure(let error):
            return ([], [jsonSyntaxError(error, file: file)])
        }
    }

    static func jsonSyntaxError(_ error: JSONSyntaxError, file: String) -> RegistryError {
        RegistryError(
            code: .invalidJSON,
            reason: "not valid JSON at column \(error.column): \(error.problem)",
            location: SourceLocation(file: file, line: error.line)
        )
    }

    private static func syntaxError(_ error: YAMLSyntaxError, file: String) -> RegistryError {
        RegistryError(
            code: .yamlSyntax,
            reason: "not valid YAML: \(error.problem)",
            location: SourceLocation(file: file, line: error.line)
        )
    }
}

/// YAML's implicit types for plain scalars (null, bool, int, float), decided by a few string
/// checks. Yams's default resolver does the same with a regular expression per scalar, which made
/// it most of the time spent loading a large registry. Quoted scalars are always strings, as in YAML.
enum PlainScalar {
    /// The type of a plain scalar and its number: an int's value, a double's bits, 1 for true.
    static func type(of text: UnsafeBufferPointer<UInt8>) -> (kind: ManifestNode.Kind, number: Int64) {
        // Every null, boolean and number spelling is short or starts with one of these; the long
        // names and texts that make up most of a manifest are strings without a look.
        guard let first = text.first else { return (.null, 0) }
        let numeric = first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
            || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        guard numeric || text.count <= 5 else { return (.string, 0) }
        if let value = decimal(text) { return (.int, value) }
        return type(of: String(decoding: text, as: UTF8.self))
    }

    /// The value of a plain decimal integer (`80`, `-1`) of up to 18 digits, read from its bytes:
    /// what ports and counts are, and what `Int(_:)` would give after a `String` made and the
    /// spellings of null and bools ruled out one by one. nil for anything else.
    private static func decimal(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        let negative = text.first == UInt8(ascii: "-")
        let digits = negative ? UnsafeBufferPointer(rebasing: text.dropFirst()) : text
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in digits {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value &* 10 &+ Int64(digit)
        }
        return negative ? -value : value
    }

    static func type(of text: String) -> (kind: ManifestNode.Kind, number: Int64) {
        switch text {
        case "", "~", "null", "Null", "NULL":
            return (.null, 0)
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON":
            return (.bool, 1)
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF":
            return (.bool, 0)
        default:
            break
        }
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
            || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return (.string, 0) }
        let digits = text.utf8.contains(UInt8(ascii: "_")) ? text.filter { $0 != "_" } : text
        if let value = Int(digits) { return (.int, Int64(value)) }
        if text.hasPrefix("0x"), let value = Int(text.dropFirst(2), radix: 16) { return (.int, Int64(value)) }
        if text.utf8.contains(UInt8(ascii: ".")), let value = Double(text) { return (.double, Int64(bitPattern: value.bitPattern)) }
        return (.string, 0)
    }
}
