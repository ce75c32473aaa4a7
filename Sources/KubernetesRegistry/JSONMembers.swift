/// The members of a JSON object as byte ranges of the text, for taking a watch event apart
/// without building it as values: `JSONSerialization` made a dictionary of every event's object
/// only to write it back as JSON for the decoder, a third of the server's CPU per change.
///
/// Not a validator: it steps over values (strings with their escapes, nested objects and arrays)
/// to find where each member's value lies, and gives up (nil) on anything it cannot step over, and
/// on a key escaped or repeated.
/// The object handed on is decoded strictly afterwards (`StoredObjectDecoding`).
struct JSONMembers {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Each member's key (inside its quotes, escapes left as they are) and value.
    private(set) var members: [(key: Range<Int>, value: Range<Int>)] = []

    /// The members of the object that `range` of `bytes` holds (whitespace around it allowed).
    init?(_ bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>? = nil) {
        self.bytes = bytes
        let range = range ?? 0..<bytes.count
        var position = Self.skipWhitespace(bytes, from: range.lowerBound, to: range.upperBound)
        guard position < range.upperBound, bytes[position] == UInt8(ascii: "{") else { return nil }
        position = Self.skipWhitespace(bytes, from: position + 1, to: range.upperBound)
        guard position < range.upperBound else { return nil }
        if bytes[position] == UInt8(ascii: "}") {
            guard Self.skipWhitespace(bytes, from: position + 1, to: range.upperBound) == range.upperBound else { return nil }
            return
        }
        while true {
            guard position < range.upperBound, bytes[position] == UInt8(ascii: "\""),
                let keyEnd = Self.stringEnd(bytes, from: position, to: range.upperBound)
            else { return nil }
            let key = (position + 1)..<(keyEnd - 1)
            // An escaped key or a repeated one reads otherwise through Foundation: not taken apart here.
            guard !bytes[key].contains(UInt8(ascii: "\\")),
                !members.contains(where: { bytes[$0.key].elementsEqual(bytes[key]) })
            else { return nil }
            position = Self.skipWhitespace(bytes, from: keyEnd, to: range.upperBound)
            guard position < range.upperBound, bytes[position] == UInt8(ascii: ":") else { return nil }
            let valueStart = Self.skipWhitespace(bytes, from: position + 1, to: range.upperBound)
            guard let valueEnd = Self.valueEnd(bytes, from: valueStart, to: range.upperBound) else { return nil }
            members.append((key, valueStart..<valueEnd))
            position = Self.skipWhitespace(bytes, from: valueEnd, to: range.upperBound)
            guard position < range.upperBound else { return nil }
            if bytes[position] == UInt8(ascii: ",") {
                position = Self.skipWhitespace(bytes, from: position + 1, to: range.upperBound)
                continue
            }
            guard bytes[position] == UInt8(ascii: "}"), Self.skipWhitespace(bytes, from: position + 1, to: range.upperBound) == range.upperBound else {
                return nil
            }
            return
        }
    }

    /// The value of the member named `key`.
    func value(_ key: StaticString) -> Range<Int>? {
        members.first { member in
            member.key.count == key.utf8CodeUnitCount
                && UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount).elementsEqual(bytes[member.key])
        }?.value
    }

    /// A string member's text, when it is a string without escapes (nil otherwise, or when absent).
    func plainString(_ key: StaticString) -> String? {
        guard let range = value(key), range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\""),
            !bytes[range].contains(UInt8(ascii: "\\"))
        else { return nil }
        return String(decoding: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)], as: UTF8.self)
    }

    private static func skipWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
        var position = start
        while position < end, [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[position]) {
            position += 1
        }
        return position
    }

    /// Past the closing quote of the string opening at `start`.
    private static func stringEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var position = start + 1
        while position < end {
            switch bytes[position] {
            case UInt8(ascii: "\""): return position + 1
            case UInt8(ascii: "\\"): position += 2
            default: position += 1
            }
        }
        return nil
    }

    /// Past the value starting at `start`: a string, an object or array (brackets counted outside
    /// strings), or a scalar (up to the next delimiter).
    private static func valueEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard start < end else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return stringEnd(bytes, from: start, to: end)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var position = start
            while position < end {
                switch bytes[position] {
                case UInt8(ascii: "\""):
                    guard let after = stringEnd(bytes, from: position, to: end) else { return nil }
                    position = after
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return position + 1 }
                default:
                    break
                }
                position += 1
            }
            return nil
        default:
            var position = start
            while position < end, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains(bytes[position]) {
                position += 1
            }
            return position > start ? position : nil
        }
    }
}
