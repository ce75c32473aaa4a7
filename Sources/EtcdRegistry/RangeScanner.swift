import Foundation

/// Reads the gateway's range answer (`{"header":{"revision":"5",...},"kvs":[{"key":"…","value":"…",
/// "create_revision":"…",...}],"more":true}`) in one pass over its bytes. A list page is megabytes
/// of it, and Foundation's `JSONDecoder` spent more time building its generic tree than the rest of
/// the client; this reads only what a range needs and skips the rest. Anything unexpected (an escape
/// inside a key or value, a shape it does not know) returns nil, and the caller decodes the answer
/// the general way.
struct RangeScanner {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    static func range(in data: Data) -> EtcdRange? {
        data.withUnsafeBytes { bytes in
            var scanner = RangeScanner(bytes)
            return scanner.response()
        }
    }

    private mutating func response() -> EtcdRange? {
        var range = EtcdRange(keyValues: [], revision: 0, more: false)
        let complete = object { scanner, key in
            switch key {
            case "header":
                return scanner.object { scanner, key in
                    guard key == "revision" else { return scanner.skipValue() }
                    guard let revision = scanner.integer() else { return false }
                    range.revision = revision
                    return true
                }
            case "kvs":
                return scanner.array { scanner in
                    guard let keyValue = scanner.keyValue() else { return false }
                    range.keyValues.append(keyValue)
                    return true
                }
            case "more":
                guard let more = scanner.boolean() else { return false }
                range.more = more
                return true
            default:
                return scanner.skipValue()
            }
        }
        return complete ? range : nil
    }

    private mutating func keyValue() -> EtcdKeyValue? {
        var keyValue = EtcdKeyValue(key: "", value: [])
        let complete = object { scanner, key in
            switch key {
            case "key":
                guard let bytes = scanner.base64() else { return false }
                keyValue.key = String(decoding: bytes, as: UTF8.self)
            case "value":
                guard let bytes = scanner.base64() else { return false }
                keyValue.value = bytes
            case "create_revision":
                guard let value = scanner.integer() else { return false }
                keyValue.createRevision = value
            case "mod_revision":
                guard let value = scanner.integer() else { return false }
                keyValue.modRevision = value
            case "version":
                guard let value = scanner.integer() else { return false }
                keyValue.version = value
            default:
                return scanner.skipValue()
            }
            return true
        }
        return complete ? keyValue : nil
    }

    // MARK: JSON, as much as a range answer needs

    private mutating func skipSpace() {
        while offset < bytes.count, bytes[offset] == 0x20 || bytes[offset] == 0x0A || bytes[offset] == 0x0D || bytes[offset] == 0x09 {
            offset += 1
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard offset < bytes.count, bytes[offset] == byte else { return false }
        offset += 1
        return true
    }

    /// `{ "key": value, ... }`, calling `member` with the scanner at each value.
    private mutating func object(_ member: (inout RangeScanner, String) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = plainString(), take(UInt8(ascii: ":")), member(&self, String(decoding: UnsafeRawBufferPointer(rebasing: bytes[key]), as: UTF8.self)) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    private mutating func array(_ element: (inout RangeScanner) -> Bool) -> Bool {
        guard take(UInt8(ascii: "[")) else { return false }
        if take(UInt8(ascii: "]")) { return true }
        repeat {
            guard element(&self) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]"))
    }

    /// A string without escapes, as the range of its contents; nil for anything else.
    private mutating func plainString() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = offset
        while offset < bytes.count {
            switch bytes[offset] {
            case UInt8(ascii: "\""):
                offset += 1
                return start..<(offset - 1)
            case UInt8(ascii: "\\"):
                return nil
            default:
                offset += 1
            }
        }
        return nil
    }

    private mutating func base64() -> [UInt8]? {
        guard let range = plainString() else { return nil }
        guard !range.isEmpty else { return [] }
        return Data(base64Encoded: Data(UnsafeRawBufferPointer(rebasing: bytes[range]))).map { [UInt8]($0) }
    }

    /// An int64 as a string (`"5"`) or a number.
    private mutating func integer() -> Int64? {
        skipSpace()
        let quoted = offset < bytes.count && bytes[offset] == UInt8(ascii: "\"")
        if quoted { offset += 1 }
        var value: Int64 = 0
        var digits = 0
        let negative = offset < bytes.count && bytes[offset] == UInt8(ascii: "-")
        if negative { offset += 1 }
        while offset < bytes.count, bytes[offset] >= UInt8(ascii: "0"), bytes[offset] <= UInt8(ascii: "9"), digits < 19 {
            value = value * 10 + Int64(bytes[offset] - UInt8(ascii: "0"))
            offset += 1
            digits += 1
        }
        guard digits > 0 else { return nil }
        if quoted { guard take(UInt8(ascii: "\"")) else { return nil } }
        return negative ? -value : value
    }

    private mutating func boolean() -> Bool? {
        skipSpace()
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        for index in 0..<count where bytes[offset + index] != word.utf8Start[index] { return false }
        offset += count
        return true
    }

    /// Skips any value (nested ones included; strings may hold escapes here).
    private mutating func skipValue() -> Bool {
        skipSpace()
        guard offset < bytes.count else { return false }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            return object { scanner, _ in scanner.skipValue() }
        case UInt8(ascii: "["):
            return array { $0.skipValue() }
        case UInt8(ascii: "\""):
            offset += 1
            while offset < bytes.count {
                if bytes[offset] == UInt8(ascii: "\\") {
                    offset += 2
                    continue
                }
                offset += 1
                if bytes[offset - 1] == UInt8(ascii: "\"") { return true }
            }
            return false
        default:
            let start = offset
            while offset < bytes.count, !",}] \n\r\t".utf8.contains(bytes[offset]) { offset += 1 }
            return offset > start
        }
    }
}
