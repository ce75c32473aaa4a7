#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The fast path's reason to hand a value to the full decoder: not an error in the value, only
/// something the fast path does not vouch for.
struct NotVouchedFor: Error {}

/// One JSON value (a stored value, a List item) as flat nodes over its bytes, for `ObjectFastPath`: checked
/// as strictly as `JSONComposer` checks it (RFC 8259, each key once per object), but with no line,
/// no `String` and no tree object made, and its arrays kept from value to value. A string with an
/// escape or a byte outside ASCII is checked and kept apart: the fast path reads only plain ones.
struct FlatJSONScanner: ~Copyable {
    enum Kind: UInt8 {
        /// A string with no escape and only ASCII: its bytes are its text.
        case plainString
        /// Any other valid string.
        case otherString
        case number, `true`, `false`, null, object, array
    }

    /// Scalars: the byte range (a string's inside its quotes). Objects and arrays: their children,
    /// `children[start..<end]`, key and value by turns for an object.
    struct Node {
        var kind: Kind
        var start: Int32
        var end: Int32
    }

    private(set) var bytes = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    private var position = 0
    private(set) var nodes = ScanBuffer<Node>()
    private(set) var children = ScanBuffer<Int32>()
    /// Children of the objects and arrays being read, innermost last.
    var pending = ScanBuffer<Int32>()

    /// Deeper than this, or more keys than `maximumKeys` in one object, is left to the full
    /// decoder (a linear search for repeated keys is for the objects a Kubernetes object holds).
    static let maximumDepth = 64
    static let maximumKeys = 256

    init() {}

    /// Reads `text` (one JSON value, whitespace around it) and returns its root node; throws when
    /// it is not valid JSON or goes beyond what the scanner reads. The nodes of the text before
    /// are forgotten; `text` must outlive the reading of these.
    mutating func read(_ text: UnsafeBufferPointer<UInt8>) throws(NotVouchedFor) -> Int32 {
        guard text.count < Int(Int32.max) else { throw NotVouchedFor() }
        start(text)
        skipWhitespace()
        let root = try value(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw NotVouchedFor() }
        return root
    }

    /// Reads the value `text` starts with, an item of a list that goes on past it: the value must
    /// be followed, after whitespace, by the `,` or `]` of its list within `text`. Returns its root
    /// node and the bytes it takes, the whitespace after it included.
    mutating func readItem(atStartOf text: UnsafeBufferPointer<UInt8>) throws(NotVouchedFor) -> (root: Int32, length: Int) {
        start(text)
        let root = try value(depth: 0)
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ",") || bytes[position] == UInt8(ascii: "]") else { throw NotVouchedFor() }
        return (root, position)
    }

    mutating func start(_ text: UnsafeBufferPointer<UInt8>) {
        // Offsets are kept in 31 bits: a longer text is read no further than that.
        bytes = UnsafeBufferPointer(rebasing: text[..<min(text.count, Int(Int32.max))])
        position = 0
        nodes.removeAll()
        children.removeAll()
        pending.removeAll()
    }

    // MARK: Reading the nodes

    func kind(_ node: Int32) -> Kind { nodes[Int(node)].kind }

    /// The value of `key` in an object node; nil when absent or when the node is no object.
    func member(_ object: Int32, _ key: StaticString) -> Int32? {
        let node = nodes[Int(object)]
        guard node.kind == .object else { return nil }
        // Keys and values by turns, checked once as a range rather than at each read.
        let members = children.elements(in: Int(node.start)..<Int(node.end))
        var child = 0
        while child + 1 < members.count {
            if equals(members[child], key) { return members[child + 1] }
            child += 2
        }
        return nil
    }

    /// The key and value nodes of an object, in text order.
    func members(_ object: Int32) -> StrideTo<Int> {
        let node = nodes[Int(object)]
        return stride(from: Int(node.start), to: node.kind == .object ? Int(node.end) : Int(node.start), by: 2)
    }

    /// The key node at `index` of `members` and its value node.
    func member(at index: Int) -> (key: Int32, value: Int32) { (children[index], children[index + 1]) }

    /// Whether a plain string node's text is `text`.
    /// (Keys of one length mostly differ in their first byte: compared before memcmp is called.)
    @inline(__always)
    func equals(_ node: Int32, _ text: StaticString) -> Bool {
        let node = nodes[Int(node)]
        let count = Int(node.end - node.start)
        guard node.kind == .plainString, count == text.utf8CodeUnitCount else { return false }
        let start = bytes.baseAddress! + Int(node.start)
        return count == 0 || (start.pointee == text.utf8Start.pointee && memcmp(start, text.utf8Start, count) == 0)
    }

    /// Whether a plain string node's text is `text` (ASCII: a literal of the decoder's).
    func equals(_ node: Int32, _ text: String) -> Bool {
        let node = nodes[Int(node)]
        let count = Int(node.end - node.start)
        guard node.kind == .plainString, count == text.utf8.count else { return false }
        let start = bytes.baseAddress! + Int(node.start)
        return text.utf8.withContiguousStorageIfAvailable { count == 0 || memcmp(start, $0.baseAddress!, count) == 0 }
            ?? text.utf8.elementsEqual(UnsafeBufferPointer(start: start, count: count))
    }

    /// Whether two plain string nodes hold the same text.
    func equals(_ lhs: Int32, _ rhs: Int32) -> Bool {
        let (left, right) = (nodes[Int(lhs)], nodes[Int(rhs)])
        let count = Int(left.end - left.start)
        return count == Int(right.end - right.start) && memcmp(bytes.baseAddress! + Int(left.start), bytes.baseAddress! + Int(right.start), count) == 0
    }

    /// A string field: nil when absent or null; the text of a plain string.
    func string(_ node: Int32?) throws(NotVouchedFor) -> String? {
        guard let node, kind(node) != .null else { return nil }
        guard kind(node) == .plainString else { throw NotVouchedFor() }
        let range = nodes[Int(node)]
        return String(decoding: text(of: range), as: UTF8.self)
    }

    /// An address field read from its bytes, with no `String` made: nil when absent or null;
    /// throws unless it is a plain string holding an address (`IPAddress(utf8:)`).
    func address(_ node: Int32?) throws(NotVouchedFor) -> IPAddress? {
        guard let node, kind(node) != .null else { return nil }
        let range = nodes[Int(node)]
        guard range.kind == .plainString, let address = IPAddress(utf8: text(of: range)) else {
            throw NotVouchedFor()
        }
        return address
    }

    /// A scalar node's bytes (a string's inside its quotes).
    private func text(of node: Node) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[Int(node.start)..<Int(node.end)])
    }

    /// Throws unless a string field is absent, null or a plain string: what `string` checks,
    /// without making the string.
    func checkString(_ node: Int32?) throws(NotVouchedFor) {
        guard let node, kind(node) != .null else { return }
        guard kind(node) == .plainString else { throw NotVouchedFor() }
    }

    /// An integer field of at most nine digits without a sign, as YAML and JSON both type it: nil
    /// when absent or null.
    func int(_ node: Int32?) throws(NotVouchedFor) -> Int? {
        guard let node, kind(node) != .null else { return nil }
        let range = nodes[Int(node)]
        guard range.kind == .number, range.end - range.start <= 9 else { throw NotVouchedFor() }
        var value = 0
        for byte in text(of: range) {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { throw NotVouchedFor() }
            value = value * 10 + Int(digit)
        }
        return value
    }

    /// A boolean field: nil when absent or null.
    func bool(_ node: Int32?) throws(NotVouchedFor) -> Bool? {
        guard let node else { return nil }
        switch kind(node) {
        case .null: return nil
        case .true: return true
        case .false: return false
        default: throw NotVouchedFor()
        }
    }

    /// An object field: nil when absent or null.
    func object(_ node: Int32?) throws(NotVouchedFor) -> Int32? {
        guard let node, kind(node) != .null else { return nil }
        guard kind(node) == .object else { throw NotVouchedFor() }
        return node
    }

    /// The items of a list field: none when absent or null. Valid until the scanner reads again.
    func items(_ node: Int32?) throws(NotVouchedFor) -> UnsafeBufferPointer<Int32> {
        guard let node, kind(node) != .null else { return UnsafeBufferPointer(start: nil, count: 0) }
        let range = nodes[Int(node)]
        guard range.kind == .array else { throw NotVouchedFor() }
        return children.elements(in: Int(range.start)..<Int(range.end))
    }

    // MARK: Scanning

    private mutating func value(depth: Int) throws(NotVouchedFor) -> Int32 {
        guard position < bytes.count else { throw NotVouchedFor() }
        switch bytes[position] {
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "t"): return try literal("true", .true)
        case UInt8(ascii: "f"): return try literal("false", .false)
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw NotVouchedFor()
        }
    }

    private mutating func object(depth: Int) throws(NotVouchedFor) -> Int32 {
        let base = pending.count
        if try opensEmpty(closedBy: UInt8(ascii: "}"), depth: depth) { return collection(.object, from: base) }
        while true {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw NotVouchedFor() }
            let key = try string()
            // Keys are compared as bytes, so only plain ones, each once.
            guard kind(key) == .plainString, pending.count - base < 2 * Self.maximumKeys else { throw NotVouchedFor() }
            for earlier in stride(from: base, to: pending.count, by: 2) where equals(pending[earlier], key) { throw NotVouchedFor() }
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw NotVouchedFor() }
            position += 1
            skipWhitespace()
            let value = try self.value(depth: depth)
            pending.append(key)
            pending.append(value)
            guard try another(closedBy: UInt8(ascii: "}")) else { break }
        }
        return collection(.object, from: base)
    }

    private mutating func array(depth: Int) throws(NotVouchedFor) -> Int32 {
        let base = pending.count
        if try opensEmpty(closedBy: UInt8(ascii: "]"), depth: depth) { return collection(.array, from: base) }
        while true {
            pending.append(try value(depth: depth))
            guard try another(closedBy: UInt8(ascii: "]")) else { break }
        }
        return collection(.array, from: base)
    }

    /// Steps past the opening byte of an object or array; true when it is empty (and past its end).
    private mutating func opensEmpty(closedBy closer: UInt8, depth: Int) throws(NotVouchedFor) -> Bool {
        guard depth <= Self.maximumDepth else { throw NotVouchedFor() }
        position += 1
        skipWhitespace()
        guard position < bytes.count, bytes[position] == closer else { return false }
        position += 1
        return true
    }

    /// Makes an object or array of the children pending from `base` on.
    mutating func collection(_ kind: Kind, from base: Int) -> Int32 {
        let start = Int32(children.count)
        children.append(contentsOf: pending, from: base)
        pending.removeAll(from: base)
        return append(Node(kind: kind, start: start, end: Int32(children.count)))
    }

    @inline(__always)
    mutating func append(_ node: Node) -> Int32 {
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    /// Past a ',' (true) or the closing byte (false).
    private mutating func another(closedBy closer: UInt8) throws(NotVouchedFor) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw NotVouchedFor() }
        let next = bytes[position]
        position += 1
        if next == UInt8(ascii: ",") {
            skipWhitespace()
            return true
        }
        guard next == closer else { throw NotVouchedFor() }
        return false
    }

    private mutating func string() throws(NotVouchedFor) -> Int32 {
        position += 1  // "
        let start = position
        var kind = Kind.plainString
        // Eight bytes a step, then straight to the first that needs a look (names, addresses and
        // labels are plain ASCII between their quotes, so it is mostly the closing quote); the loop
        // below takes it from there.
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while position + 8 <= bytes.count {
                let flagged = Self.bytesNeedingALook(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)))
                guard flagged == 0 else {
                    position += flagged.trailingZeroBitCount / 8
                    break
                }
                position += 8
            }
        }
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return append(Node(kind: kind, start: Int32(start), end: Int32(position - 1)))
            case UInt8(ascii: "\\"):
                kind = .otherString
                try escape()
            case 0..<0x20:
                throw NotVouchedFor()
            case 0x80...:
                kind = .otherString
                position += 1
            default:
                position += 1
            }
        }
        throw NotVouchedFor()
    }

    /// Checks the escape at `position` (a backslash) as `JSONComposer` does and steps over it.
    private mutating func escape() throws(NotVouchedFor) {
        guard position + 1 < bytes.count else { throw NotVouchedFor() }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 2
        case UInt8(ascii: "u"):
            let scalar = try hexQuad(at: position + 2)
            position += 6
            if scalar >= 0xD800, scalar < 0xDC00 {
                guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else { throw NotVouchedFor() }
                let low = try hexQuad(at: position + 2)
                guard low >= 0xDC00, low < 0xE000 else { throw NotVouchedFor() }
                position += 6
            } else if scalar >= 0xDC00, scalar < 0xE000 {
                throw NotVouchedFor()
            }
        default:
            throw NotVouchedFor()
        }
    }

    private func hexQuad(at offset: Int) throws(NotVouchedFor) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw NotVouchedFor() }
        var value: UInt32 = 0
        for byte in bytes[offset..<(offset + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw NotVouchedFor()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private mutating func literal(_ word: StaticString, _ kind: Kind) throws(NotVouchedFor) -> Int32 {
        let count = word.utf8CodeUnitCount
        guard bytes.count - position >= count, memcmp(bytes.baseAddress! + position, word.utf8Start, count) == 0 else { throw NotVouchedFor() }
        position += count
        return append(Node(kind: kind, start: Int32(position - count), end: Int32(position)))
    }

    /// A number in RFC 8259's grammar, kept as its text.
    private mutating func number() throws(NotVouchedFor) -> Int32 {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else { throw NotVouchedFor() }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw NotVouchedFor() }
        } else {
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw NotVouchedFor() }
            skipDigits()
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, isDigit(bytes[position]) else { throw NotVouchedFor() }
            skipDigits()
        }
        return append(Node(kind: .number, start: Int32(start), end: Int32(position)))
    }

    /// The high bit of each of the eight bytes of `word` (first byte lowest) that is a quote, a
    /// backslash, a control byte or not ASCII. (Each test is the bit trick that finds a byte below a
    /// bound, or a zero byte after an exclusive or. A borrow may flag a byte above the first one
    /// found, never one below it: the lowest bit set is exact, which is all that is asked.)
    @inline(__always)
    private static func bytesNeedingALook(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & (ones &* 0x80)
    }

    /// Inlined up to its first byte: half its calls (before a colon, a comma or a closing bracket)
    /// find no whitespace at all.
    @inline(__always)
    private mutating func skipWhitespace() {
        guard position < bytes.count, bytes[position] <= UInt8(ascii: " ") else { return }
        skipWhitespaceRun()
    }

    private mutating func skipWhitespaceRun() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "):
                // kubectl indents four spaces a level: a run of them is skipped eight bytes a step,
                // and its end found in the last word read.
                position += 1
                if let base = bytes.baseAddress {
                    let raw = UnsafeRawPointer(base)
                    while position + 8 <= bytes.count {
                        let notSpace = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)) ^ 0x2020_2020_2020_2020
                        guard notSpace == 0 else {
                            position += notSpace.trailingZeroBitCount / 8
                            break
                        }
                        position += 8
                    }
                }
            case UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    private mutating func skipDigits() {
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
}
