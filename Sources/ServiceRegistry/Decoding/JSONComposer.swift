#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON syntax error: what is wrong and where (1-based line and column, the column counted in
/// characters).
struct JSONSyntaxError: Error, Equatable {
    var problem: String
    var line: Int
    var column: Int
}

/// Composes the `ManifestNode` tree of a JSON text (RFC 8259, strictly) in one pass over its bytes,
/// the same tree `YAMLComposer` builds for the same value written as YAML: strings are string
/// scalars, numbers, `true`, `false` and `null` are plain scalars kept as their text and typed by
/// `PlainScalar` as YAML types them, every node has its line, and a key may appear once per object.
///
/// Written by hand because measurement asked for it: a 163 MB `kubectl get -o json` List (50k
/// Services) parses here in 0.4 s; libyaml reading it as YAML flow style added about 3 s to the
/// load, and JSONSerialization took 17 s and 3 GB and lost the lines and YAML's typing. Unescaped
/// scalars are not copied: the tree points into the text. A non-copyable value so its state is
/// reached without runtime exclusivity checks.
struct JSONComposer: ~Copyable {
    private var input: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var line = 1
    /// Offset of the current line's first byte, for columns in errors.
    private var lineStart = 0
    private var tree: ManifestTreeBuilder
    /// Children of the objects and arrays being composed, innermost last (as in `YAMLComposer`).
    private var pending: [Int32] = []
    /// A string's bytes with its escapes decoded, reused from string to string.
    private var scratch: [UInt8] = []
    /// A file streamed in chunks (`streamDocument`), nil for a text in memory.
    private var stream: JSONFileStream?
    /// Scalars are copied into the tree instead of pointing into `input`: while streaming, outside
    /// the items of the streamed list, whose bytes do not stay in the buffer.
    private var copyingScalars = false
    /// Takes each item of a streamed list with the list's kind, if it came before the items.
    private var itemHandler: ((ManifestNode, String?) -> Void)?
    /// Offered each item of a streamed list before it is composed: the bytes from its start to the
    /// buffer's end, and its line. Returns how many of them it took (the item read, and the
    /// whitespace after it), or nil to have the item composed and handed to `itemHandler`.
    private var itemReader: ((UnsafeBufferPointer<UInt8>, Int) -> Int?)?
    /// Why the streamed file could not be read further, if it could not.
    private var readFailure: JSONFileStream.Failure?

    /// Objects and arrays nest at most this deep, so hostile input cannot exhaust the stack.
    static let maximumDepth = 512

    /// The value of `text`, or the first syntax error in it.
    static func document(in text: String) -> Result<ManifestNode, JSONSyntaxError> {
        // The tree reads scalars in place, so it keeps the text, in the contiguous form read here.
        var text = text
        text.makeContiguousUTF8()
        return text.utf8.withContiguousStorageIfAvailable { buffer in
            // The tree indexes nodes and text with 31 bits.
            guard buffer.count < Int(Int32.max) else {
                return .failure(JSONSyntaxError(problem: "file too large (at most 2 GiB of JSON)", line: 1, column: 1))
            }
            var composer = JSONComposer(input: buffer)
            do throws(JSONSyntaxError) {
                let root = try composer.document()
                return .success(ManifestNode(tree: composer.tree.finish(source: text), index: root))
            } catch {
                return .failure(error)
            }
        }!
    }

    private init(input: UnsafeBufferPointer<UInt8>) {
        self.input = input
        tree = ManifestTreeBuilder(source: input)
    }

    /// What went wrong reading a streamed file.
    enum StreamFailure: Error {
        case unreadable(String)
        case syntax(JSONSyntaxError)
    }

    /// The value of a JSON file read in chunks. When it is an object with an `items` list (a
    /// `kubectl get -o json` List), each item is handed to `onItem` as soon as it is composed, with
    /// the list's `kind` if it came before `items` (the API server's order; kubectl's sorts it
    /// after), and then forgotten: the returned value has `items` empty, and neither the file's text
    /// nor its tree is ever in memory whole. The node handed over is valid only during the call.
    ///
    /// `readItem`, when given, is offered each item first (see `itemReader`).
    static func streamDocument(
        from stream: JSONFileStream, readItem: ((UnsafeBufferPointer<UInt8>, Int) -> Int?)? = nil, onItem: @escaping (ManifestNode, String?) -> Void
    ) -> Result<ManifestNode, StreamFailure> {
        var composer = JSONComposer(input: stream.bytes)
        composer.stream = stream
        composer.copyingScalars = true
        composer.itemHandler = onItem
        composer.itemReader = readItem
        do throws(JSONSyntaxError) {
            let root = try composer.document()
            return .success(ManifestNode(tree: composer.tree.finish(), index: root))
        } catch {
            if let failure = composer.readFailure {
                switch failure {
                case .unreadable(let reason): return .failure(.unreadable(reason))
                }
            }
            // Stopped short of its end before any item went by (an object too large for the first
            // chunk, not a List): read it whole and compose it again.
            guard stream.discarded == 0, !stream.atEnd else { return .failure(.syntax(error)) }
            do throws(JSONFileStream.Failure) {
                try stream.readToEnd()
            } catch {
                switch error {
                case .unreadable(let reason): return .failure(.unreadable(reason))
                }
            }
            return streamDocument(from: stream, readItem: readItem, onItem: onItem)
        }
    }

    private mutating func document() throws(JSONSyntaxError) -> Int32 {
        guard input.count < Int(Int32.max) else { throw JSONSyntaxError(problem: "file too large (at most 2 GiB of JSON)", line: 1, column: 1) }
        // RFC 8259 lets a parser ignore a byte order mark.
        if input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { position = 3; lineStart = 3 }
        skipWhitespace()
        guard position < input.count else { throw error("the file holds no JSON value") }
        let root = try value(depth: 0)
        skipWhitespace()
        guard position == input.count else { throw error("unexpected \(found) after the JSON value (a file holds one value)") }
        return root
    }

    // MARK: Values

    private mutating func value(depth: Int) throws(JSONSyntaxError) -> Int32 {
        guard position < input.count else { throw error("unexpected end of the file, expected a value") }
        switch input[position] {
        case Byte.quote:
            return try string()
        case Byte.openBrace:
            return try object(depth: depth + 1)
        case Byte.openBracket:
            return try array(depth: depth + 1)
        case Byte.t:
            return try literal("true", kind: .bool)
        case Byte.f:
            return try literal("false", kind: .bool)
        case Byte.n:
            return try literal("null", kind: .null)
        case Byte.minus, Byte.zero...Byte.nine:
            return try number()
        default:
            throw error("unexpected \(found), expected a value (an object, array, string, number, true, false or null)")
        }
    }

    private mutating func object(depth: Int) throws(JSONSyntaxError) -> Int32 {
        guard depth <= Self.maximumDepth else { throw error("objects and arrays nest more than \(Self.maximumDepth) deep") }
        let line = self.line
        position += 1  // {
        let base = pending.count
        skipWhitespace()
        if position < input.count, input[position] == Byte.closeBrace {
            position += 1
            return tree.appendCollection(.mapping, children: UnsafeBufferPointer(start: nil, count: 0), line: line)
        }
        var keys: Set<String>?
        while true {
            guard position < input.count, input[position] == Byte.quote else {
                throw error("unexpected \(found), expected a string key in double quotes")
            }
            // A key holds no line break, so its line is still the current one when it is checked.
            let keyStart = position
            let key = try string()
            if tree.repeatsKey(key, in: pending, from: base, seen: &keys) {
                throw JSONSyntaxError(
                    problem: "duplicate key \"\(tree.text(of: key))\" in an object (each key may appear once)",
                    line: self.line, column: column(at: keyStart))
            }
            skipWhitespace()
            guard position < input.count, input[position] == Byte.colon else {
                throw error("unexpected \(found), expected ':' after an object key")
            }
            position += 1
            skipWhitespace()
            let value: Int32
            if depth == 1, stream != nil, position < input.count, input[position] == Byte.openBracket, tree.text(of: key) == "items" {
                value = try streamedItems(depth: depth, listKind: kind(among: pending[base...]))
            } else {
                value = try self.value(depth: depth)
            }
            pending.append(key)
            pending.append(value)
            guard try anotherItem(closedBy: Byte.closeBrace, "'}' in an object") else { break }
        }
        return collection(.mapping, from: base, line: line)
    }

    private mutating func array(depth: Int) throws(JSONSyntaxError) -> Int32 {
        guard depth <= Self.maximumDepth else { throw error("objects and arrays nest more than \(Self.maximumDepth) deep") }
        let line = self.line
        position += 1  // [
        let base = pending.count
        skipWhitespace()
        if position < input.count, input[position] == Byte.closeBracket {
            position += 1
            return tree.appendCollection(.sequence, children: UnsafeBufferPointer(start: nil, count: 0), line: line)
        }
        while true {
            let item = try value(depth: depth)
            pending.append(item)
            guard try anotherItem(closedBy: Byte.closeBracket, "']' in an array") else { break }
        }
        return collection(.sequence, from: base, line: line)
    }

    // MARK: Streaming

    /// The `items` list of a streamed file's top-level object: each item is composed, handed over
    /// and forgotten, and the buffer slides along the file between items. An item that runs past the
    /// buffer's end is composed again once more of the file is in. Returns an empty list.
    private mutating func streamedItems(depth: Int, listKind: String?) throws(JSONSyntaxError) -> Int32 {
        let line = self.line
        position += 1  // [
        copyingScalars = false
        try refillIfShort()
        skipWhitespace()
        var more = !(position < input.count && input[position] == Byte.closeBracket)
        if !more { position += 1 }
        while more {
            try refillIfShort()
            if let itemReader, let taken = itemReader(UnsafeBufferPointer(rebasing: input[position...]), self.line) {
                stepOverLines(taken)
                more = try anotherItem(closedBy: Byte.closeBracket, "']' in an array")
                continue
            }
            let start = (position: position, line: self.line, lineStart: lineStart)
            let mark = tree.mark
            let pendingCount = pending.count
            while true {
                do throws(JSONSyntaxError) {
                    let item = try value(depth: depth)
                    more = try anotherItem(closedBy: Byte.closeBracket, "']' in an array")
                    if let itemHandler { tree.withView { itemHandler(ManifestNode(tree: $0, index: item), listKind) } }
                    break
                } catch {
                    guard let stream, !stream.atEnd, readFailure == nil else { throw error }
                    position = start.position
                    self.line = start.line
                    lineStart = start.lineStart
                    tree.truncate(to: mark)
                    pending.removeSubrange(pendingCount...)
                    try refill(keepingFrom: min(position, lineStart))
                }
            }
            tree.truncate(to: mark)
        }
        // What follows the list (its kind, its metadata) is small: read it whole and copy it.
        copyingScalars = true
        if let stream {
            do throws(JSONFileStream.Failure) {
                try stream.readToEnd()
            } catch {
                readFailure = error
                throw self.error("the file cannot be read to its end")
            }
            rebase(on: stream)
        }
        return tree.appendCollection(.sequence, children: UnsafeBufferPointer(start: nil, count: 0), line: line)
    }

    /// Slides the buffer on when less than a chunk is left ahead of the parser.
    private mutating func refillIfShort() throws(JSONSyntaxError) {
        guard let stream, !stream.atEnd, input.count - position < JSONFileStream.chunkSize else { return }
        try refill(keepingFrom: min(position, lineStart))
    }

    /// Drops the bytes before `offset` and reads more of the file.
    private mutating func refill(keepingFrom offset: Int) throws(JSONSyntaxError) {
        guard let stream else { return }
        let moved: Int
        do throws(JSONFileStream.Failure) {
            moved = try stream.advance(keepingFrom: offset)
        } catch {
            readFailure = error
            throw self.error("the file cannot be read further")
        }
        position -= moved
        lineStart -= moved
        rebase(on: stream)
    }

    private mutating func rebase(on stream: JSONFileStream) {
        input = stream.bytes
        tree.rebase(source: input)
    }

    /// The string value of a `kind` key among a mapping's pairs composed so far.
    private func kind(among pairs: ArraySlice<Int32>) -> String? {
        for index in stride(from: pairs.startIndex, to: pairs.endIndex - 1, by: 2) where tree.text(of: pairs[index]) == "kind" {
            return tree.text(of: pairs[index + 1])
        }
        return nil
    }

    /// A scalar whose text is `range` of the input: pointed into, or copied while streaming.
    private mutating func scalar(_ kind: ManifestNode.Kind, range: Range<Int>) -> Int32 {
        if copyingScalars {
            return tree.appendScalar(kind, text: UnsafeBufferPointer(rebasing: input[range]), line: line)
        }
        return tree.appendSourceScalar(kind, range: range, line: line)
    }

    /// After an item of an object or array: true past a ',' (another item follows), false past
    /// the closing byte; anything else is an error that says what was expected (`closing`).
    private mutating func anotherItem(closedBy closer: UInt8, _ closing: String) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard position < input.count else { throw error("unexpected end of the file, expected ',' or \(closing)") }
        let next = input[position]
        position += 1
        if next == Byte.comma {
            skipWhitespace()
            return true
        }
        guard next == closer else {
            position -= 1
            throw error("unexpected \(found), expected ',' or \(closing)")
        }
        return false
    }

    /// Adds the object or array whose children are `pending[base...]`, and takes them off `pending`.
    private mutating func collection(_ kind: ManifestNode.Kind, from base: Int, line: Int) -> Int32 {
        let node = pending[base...].withUnsafeBufferPointer { tree.appendCollection(kind, children: $0, line: line) }
        pending.removeSubrange(base...)
        return node
    }

    /// `true`, `false` or `null`: a plain scalar with that text, as YAML reads it.
    private mutating func literal(_ word: StaticString, kind: ManifestNode.Kind) throws(JSONSyntaxError) -> Int32 {
        let count = word.utf8CodeUnitCount
        guard input.count - position >= count, memcmp(input.baseAddress! + position, word.utf8Start, count) == 0 else {
            throw error("unexpected \(found), expected a value (did you mean \(word)?)")
        }
        position += count
        return scalar(kind, range: (position - count)..<position)
    }

    /// A number, checked against RFC 8259's grammar and kept as its text: its kind is what YAML
    /// gives the same plain scalar (`80` an int, `0.5` a double, `1e3` a string), so a manifest
    /// decodes the same in either format.
    private mutating func number() throws(JSONSyntaxError) -> Int32 {
        let start = position
        if input[position] == Byte.minus { position += 1 }
        guard position < input.count, isDigit(input[position]) else { throw error("a number needs a digit after '-'") }
        if input[position] == Byte.zero {
            position += 1
            if position < input.count, isDigit(input[position]) { throw error("a number may not start with 0 (leading zeros)") }
        } else {
            skipDigits()
        }
        if position < input.count, input[position] == Byte.dot {
            position += 1
            guard position < input.count, isDigit(input[position]) else { throw error("a number needs a digit after '.'") }
            skipDigits()
        }
        if position < input.count, input[position] | 0x20 == Byte.e {
            position += 1
            if position < input.count, input[position] == Byte.plus || input[position] == Byte.minus { position += 1 }
            guard position < input.count, isDigit(input[position]) else { throw error("a number needs a digit in its exponent") }
            skipDigits()
        }
        let kind = PlainScalar.type(of: UnsafeBufferPointer(rebasing: input[start..<position])).kind
        return scalar(kind, range: start..<position)
    }

    /// A string scalar with its escapes decoded. Most strings have none and are read in place.
    private mutating func string() throws(JSONSyntaxError) -> Int32 {
        position += 1  // "
        let start = position
        while position < input.count {
            let byte = input[position]
            if byte == Byte.quote {
                position += 1
                return scalar(.string, range: start..<(position - 1))
            }
            if byte == Byte.backslash || byte < 0x20 { break }
            position += 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: input[start..<position])
        while position < input.count {
            let byte = input[position]
            switch byte {
            case Byte.quote:
                position += 1
                return scratch.withUnsafeBufferPointer { tree.appendScalar(.string, text: $0, line: line) }
            case Byte.backslash:
                try escape()
            case 0..<0x20:
                throw error("a control character (U+\(hex(UInt32(byte), digits: 4))) in a string must be escaped")
            default:
                scratch.append(byte)
                position += 1
            }
        }
        throw error("unexpected end of the file in a string (missing closing '\"')")
    }

    /// Decodes the escape at `position` (a backslash) into `scratch`.
    private mutating func escape() throws(JSONSyntaxError) {
        guard position + 1 < input.count else { throw error("unexpected end of the file in a string escape") }
        let letter = input[position + 1]
        switch letter {
        case Byte.quote, Byte.backslash, Byte.slash: scratch.append(letter)
        case Byte.b: scratch.append(0x08)
        case Byte.f: scratch.append(0x0C)
        case Byte.n: scratch.append(0x0A)
        case Byte.r: scratch.append(0x0D)
        case Byte.t: scratch.append(0x09)
        case Byte.u:
            var scalar = try hexQuad(at: position + 2)
            position += 6
            if scalar >= 0xD800, scalar < 0xDC00 {
                // A high surrogate: the low one must follow as another \u escape.
                guard input.count - position >= 6, input[position] == Byte.backslash, input[position + 1] == Byte.u else {
                    throw error("\\u\(hex(scalar, digits: 4)) is half a surrogate pair; the low half (\\uDC00-\\uDFFF) must follow")
                }
                let low = try hexQuad(at: position + 2)
                guard low >= 0xDC00, low < 0xE000 else {
                    throw error("\\u\(hex(scalar, digits: 4)) is half a surrogate pair; \\u\(hex(low, digits: 4)) is not its low half")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                position += 6
            } else if scalar >= 0xDC00, scalar < 0xE000 {
                position -= 6
                throw error("\\u\(hex(scalar, digits: 4)) is the low half of a surrogate pair without its high half")
            }
            appendUTF8(scalar)
            return
        default:
            position += 1
            throw error("unknown escape '\\\(Character(Unicode.Scalar(letter)))' in a string (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
        }
        position += 2
    }

    private func hexQuad(at offset: Int) throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for index in offset..<(offset + 4) {
            guard index < input.count, let digit = hexValue(input[index]) else {
                throw JSONSyntaxError(problem: "\\u needs four hex digits", line: line, column: column(at: offset - 2))
            }
            value = value << 4 | digit
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: Bytes

    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case Byte.space, Byte.tab:
                break
            case Byte.newline:
                line += 1
                lineStart = position + 1
            case Byte.carriageReturn:
                // A lone CR ends a line too; in CR LF, the LF counts.
                if position + 1 == input.count || input[position + 1] != Byte.newline {
                    line += 1
                    lineStart = position + 1
                }
            default:
                return
            }
            position += 1
        }
    }

    /// Moves `count` bytes on, past an item read elsewhere, counting the lines it spans as
    /// `skipWhitespace` counts them (in valid JSON, line breaks are whitespace). The line feeds
    /// are found with `memchr`: an item is kilobytes, a List file hundreds of megabytes.
    private mutating func stepOverLines(_ count: Int) {
        let end = position + count
        guard count > 0, let base = input.baseAddress else { return }
        // A carriage return is rare (kubectl writes line feeds): with one, byte by byte.
        if memchr(base + position, Int32(Byte.carriageReturn), count) != nil {
            while position < end {
                if input[position] == Byte.newline || input[position] == Byte.carriageReturn {
                    let crlf = input[position] == Byte.carriageReturn && position + 1 < input.count && input[position + 1] == Byte.newline
                    if !crlf {
                        line += 1
                        lineStart = position + 1
                    }
                }
                position += 1
            }
            return
        }
        while position < end, let found = memchr(base + position, Int32(Byte.newline), end - position) {
            position = UnsafeRawPointer(found) - UnsafeRawPointer(base) + 1
            line += 1
            lineStart = position
        }
        position = end
    }

    private mutating func skipDigits() {
        while position < input.count, isDigit(input[position]) { position += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte &- Byte.zero < 10 }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case Byte.zero...Byte.nine: return UInt32(byte - Byte.zero)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    // MARK: Errors

    /// An error at the current position.
    private func error(_ problem: String) -> JSONSyntaxError {
        JSONSyntaxError(problem: problem, line: line, column: column(at: position))
    }

    /// The 1-based column of `offset` on the current line, in characters (UTF-8 lead bytes).
    private func column(at offset: Int) -> Int {
        let end = min(offset, input.count)
        guard end > lineStart else { return 1 }
        return input[lineStart..<end].reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    /// The character at the current position for messages: `'x'`, or `end of the file`.
    private var found: String {
        guard position < input.count else { return "end of the file" }
        let byte = input[position]
        if byte < 0x20 { return "control character U+\(hex(UInt32(byte), digits: 4))" }
        // The first character at the position, however many bytes it takes.
        let length = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
        let text = String(decoding: input[position..<min(position + length, input.count)], as: UTF8.self)
        return "'\(text)'"
    }

    private enum Byte {
        static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), slash = UInt8(ascii: "/")
        static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
        static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
        static let colon = UInt8(ascii: ":"), comma = UInt8(ascii: ",")
        static let minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+"), dot = UInt8(ascii: ".")
        static let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        static let e = UInt8(ascii: "e"), b = UInt8(ascii: "b"), f = UInt8(ascii: "f"), n = UInt8(ascii: "n")
        static let r = UInt8(ascii: "r"), t = UInt8(ascii: "t"), u = UInt8(ascii: "u")
        static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        static let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
    }
}
