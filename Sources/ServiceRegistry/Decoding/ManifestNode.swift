/// A parsed YAML or JSON value with the line it starts on, so decoding can point errors at a field.
/// One tree for both formats keeps the object decoders format-blind.
struct ManifestNode {
    /// The value; scalars keep their text so a string field can accept what kubectl would print.
    enum Value {
        case null
        case string(String)
        case int(Int, text: String)
        case double(Double, text: String)
        case bool(Bool, text: String)
        /// Keys in document order.
        case mapping([(key: String, value: ManifestNode)])
        case sequence([ManifestNode])
    }

    var value: Value
    /// 1-based line, nil when the parser could not tell (JSON read without line tracking).
    var line: Int?

    init(_ value: Value, line: Int? = nil) {
        self.value = value
        self.line = line
    }

    var isNull: Bool { if case .null = value { return true } else { return false } }

    /// The value of `key` in a mapping; nil for absent keys and for non-mappings.
    subscript(key: String) -> ManifestNode? {
        guard case .mapping(let pairs) = value else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// The text of any scalar (`80`, `true`, `web`); nil for null, mappings and sequences.
    var scalarText: String? {
        switch value {
        case .string(let text): return text
        case .int(_, let text), .double(_, let text), .bool(_, let text): return text
        case .null, .mapping, .sequence: return nil
        }
    }

    /// A short name of the value's type for error messages (`a mapping`, `a string`).
    var typeDescription: String {
        switch value {
        case .null: return "null"
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a number"
        case .bool: return "a boolean"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}
