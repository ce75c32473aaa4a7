import Foundation

/// Any JSON value, decoded without a schema, for the JSON fallback path.
indirect enum JSONValue: Decodable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !array.isAtEnd { items.append(try array.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var members: [String: JSONValue] = [:]
            for key in object.allKeys { members[key.stringValue] = try object.decode(JSONValue.self, forKey: key) }
            self = .object(members)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let value = try? single.decode(Bool.self) { self = .bool(value) }
        else if let value = try? single.decode(Int.self) { self = .int(value) }
        else if let value = try? single.decode(Double.self) { self = .double(value) }
        else { self = .string(try single.decode(String.self)) }
    }

    var node: ManifestNode {
        switch self {
        case .null: return ManifestNode(.null)
        case .bool(let value): return ManifestNode(.bool(value, text: String(value)))
        case .int(let value): return ManifestNode(.int(value, text: String(value)))
        case .double(let value): return ManifestNode(.double(value, text: String(value)))
        case .string(let value): return ManifestNode(.string(value))
        case .array(let items): return ManifestNode(.sequence(items.map(\.node)))
        case .object(let members):
            return ManifestNode(.mapping(members.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value.node) }))
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
