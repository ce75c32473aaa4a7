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

    /// The value as a tree of its own (without lines: JSONDecoder does not track them).
    var node: ManifestNode {
        var tree = ManifestTreeBuilder(textSize: 0)
        let root = append(to: &tree)
        return ManifestNode(tree: tree.finish(), index: root)
    }

    private func append(to tree: inout ManifestTreeBuilder) -> Int32 {
        switch self {
        case .null: return tree.appendScalar(.null, text: "", line: nil)
        case .bool(let value): return tree.appendScalar(.bool, text: String(value), line: nil)
        case .int(let value): return tree.appendScalar(.int, text: String(value), line: nil)
        case .double(let value): return tree.appendScalar(.double, text: String(value), line: nil)
        case .string(let value): return tree.appendScalar(.string, text: value, line: nil)
        case .array(let items):
            var children: [Int32] = []
            for item in items { children.append(item.append(to: &tree)) }
            return children.withUnsafeBufferPointer { tree.appendCollection(.sequence, children: $0, line: nil) }
        case .object(let members):
            var children: [Int32] = []
            for (key, value) in members.sorted(by: { $0.key < $1.key }) {
                children.append(tree.appendScalar(.string, text: key, line: nil))
                children.append(value.append(to: &tree))
            }
            return children.withUnsafeBufferPointer { tree.appendCollection(.mapping, children: $0, line: nil) }
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
