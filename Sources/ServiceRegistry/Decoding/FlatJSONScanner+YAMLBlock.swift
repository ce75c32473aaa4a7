/// A YAML document in the block style kubectl prints (and most hand-written manifests use), read
/// into the same flat nodes as JSON, for `ObjectFastPath`: an edit of a namespace file parses its
/// changed documents here instead of through libyaml and the tree composed from its events, which
/// were a sixth of the registry's work a rename in the churn benchmark.
///
/// It reads only what maps onto JSON without doubt, and leaves everything else to the full parser
/// (`NotVouchedFor`): flow collections other than `[]` and `{}`, anchors, aliases, tags, block and
/// multi-line scalars, quoted keys, escapes (`\` in double quotes, `''` in single ones), comments
/// after a value, tabs, CR line ends, bytes outside ASCII, a second document. Plain scalars are
/// typed by the full parser's own rules (`PlainScalar`); only decimal integers become numbers.
extension FlatJSONScanner {
    /// One line's content: its indentation and where its text starts and ends (the newline
    /// excluded), or for a sequence item's compact mapping, the part after its dash.
    private struct BlockLine {
        var indent: Int
        var start: Int
        var end: Int
        /// The next line's first byte.
        var next: Int
        /// 0-based, counted from the text's start.
        var number: Int
    }

    /// Reads `text`, one YAML document (a `---` line before it allowed), into nodes; returns its
    /// root, a block mapping, and the 0-based line its first key is on.
    mutating func readYAMLBlock(_ text: UnsafeBufferPointer<UInt8>) throws(NotVouchedFor) -> (root: Int32, line: Int) {
        guard text.count < Int(Int32.max) else { throw NotVouchedFor() }
        start(text)
        guard var first = try contentLine(from: 0, number: 0) else { throw NotVouchedFor() }
        if first.indent == 0 && isMarker(first) {
            guard let afterMarker = try contentLine(from: first.next, number: first.number + 1) else { throw NotVouchedFor() }
            first = afterMarker
        }
        guard first.indent == 0 else { throw NotVouchedFor() }
        var next: BlockLine? = first
        let root = try mapping(startingAt: first, following: &next, depth: 0)
        guard next == nil else { throw NotVouchedFor() }
        return (root, first.number)
    }

    private func isMarker(_ line: BlockLine) -> Bool {
        line.end - line.start == 3 && bytes[line.start] == UInt8(ascii: "-") && bytes[line.start + 1] == UInt8(ascii: "-") && bytes[line.start + 2] == UInt8(ascii: "-")
    }

    /// The first line from `offset` on with content: blank lines and whole-line comments are
    /// skipped. nil at the end of the text.
    private func contentLine(from offset: Int, number: Int) throws(NotVouchedFor) -> BlockLine? {
        var lineStart = offset
        var number = number
        while lineStart < bytes.count {
            var position = lineStart
            while position < bytes.count && bytes[position] == UInt8(ascii: " ") { position += 1 }
            var end = position
            while end < bytes.count && bytes[end] != 0x0A {
                // Tabs, CR, control bytes and bytes outside ASCII: the full parser's.
                guard bytes[end] >= 0x20 && bytes[end] < 0x7F else { throw NotVouchedFor() }
                end += 1
            }
            let next = end < bytes.count ? end + 1 : end
            if position < end && bytes[position] != UInt8(ascii: "#") {
                var trimmed = end
                while trimmed > position && bytes[trimmed - 1] == UInt8(ascii: " ") { trimmed -= 1 }
                let line = BlockLine(indent: position - lineStart, start: position, end: trimmed, next: next, number: number)
                // A second document, or the end of this one: the full parser's.
                if line.indent == 0 && (isMarker(line) || startsWith(line, "...")) && offset > 0 { throw NotVouchedFor() }
                return line
            }
            lineStart = next
            number += 1
        }
        return nil
    }

    private func startsWith(_ line: BlockLine, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard line.end - line.start >= count else { return false }
        for index in 0..<count where bytes[line.start + index] != prefix.utf8Start[index] { return false }
        return true
    }

    /// Whether the line is a sequence item: a dash followed by a space or nothing.
    private func isItem(_ line: BlockLine) -> Bool {
        bytes[line.start] == UInt8(ascii: "-") && (line.end == line.start + 1 || bytes[line.start + 1] == UInt8(ascii: " "))
    }

    /// A block mapping whose first key is on `first`; on return `next` is the first line after it.
    private mutating func mapping(startingAt first: BlockLine, following next: inout BlockLine?, depth: Int) throws(NotVouchedFor) -> Int32 {
        guard depth < Self.maximumDepth else { throw NotVouchedFor() }
        let indent = first.indent
        let base = pending.count
        var line = first
        while true {
            guard !isItem(line) else { throw NotVouchedFor() }
            // The key: a plain scalar up to the first `: ` (or a `:` ending the line).
            var colon = line.start
            while colon < line.end && !isMappingColon(at: colon, end: line.end) { colon += 1 }
            guard colon < line.end, colon > line.start, bytes[colon - 1] != UInt8(ascii: " "), !startsIndicator(line.start, end: colon) else { throw NotVouchedFor() }
            // A comment inside, or a key YAML types as other than a string (`80:`, `true:`): the full parser's.
            for index in line.start..<colon where startsComment(at: index) { throw NotVouchedFor() }
            guard PlainScalar.type(of: UnsafeBufferPointer(rebasing: bytes[line.start..<colon])).kind == .string else { throw NotVouchedFor() }
            let key = append(Node(kind: .plainString, start: Int32(line.start), end: Int32(colon)))
            guard pending.count - base < 2 * Self.maximumKeys else { throw NotVouchedFor() }
            for earlier in stride(from: base, to: pending.count, by: 2) where equals(pending[earlier], key) { throw NotVouchedFor() }
            var valueStart = colon + 1
            while valueStart < line.end && bytes[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
            let following = try contentLine(from: line.next, number: line.number + 1)
            let value: Int32
            next = following
            if valueStart < line.end {
                value = try scalar(valueStart, end: line.end)
                // A more indented line after a value continues it (or is an error): the full parser's.
                if let following, following.indent > indent { throw NotVouchedFor() }
            } else if let following, following.indent > indent {
                value = try block(startingAt: following, following: &next, depth: depth + 1)
            } else if let following, following.indent == indent, isItem(following) {
                // kubectl's style: a list at its key's indentation.
                value = try sequence(startingAt: following, following: &next, depth: depth + 1)
            } else {
                value = append(Node(kind: .null, start: Int32(valueStart), end: Int32(valueStart)))
            }
            pending.append(key)
            pending.append(value)
            guard let after = next, after.indent >= indent else { break }
            guard after.indent == indent else { throw NotVouchedFor() }
            line = after
        }
        return collection(.object, from: base)
    }

    /// A block mapping or sequence starting on `first`.
    private mutating func block(startingAt first: BlockLine, following next: inout BlockLine?, depth: Int) throws(NotVouchedFor) -> Int32 {
        isItem(first) ? try sequence(startingAt: first, following: &next, depth: depth) : try mapping(startingAt: first, following: &next, depth: depth)
    }

    /// A block sequence whose first item is on `first`.
    private mutating func sequence(startingAt first: BlockLine, following next: inout BlockLine?, depth: Int) throws(NotVouchedFor) -> Int32 {
        guard depth < Self.maximumDepth else { throw NotVouchedFor() }
        let indent = first.indent
        let base = pending.count
        var line = first
        while true {
            var content = line.start + 1
            while content < line.end && bytes[content] == UInt8(ascii: " ") { content += 1 }
            let following = try contentLine(from: line.next, number: line.number + 1)
            next = following
            if content == line.end {
                // The item's value on the lines below, or null.
                if let following, following.indent > indent {
                    pending.append(try block(startingAt: following, following: &next, depth: depth + 1))
                } else {
                    pending.append(append(Node(kind: .null, start: Int32(content), end: Int32(content))))
                }
            } else if hasMappingColon(content, end: line.end) {
                // A compact mapping: its keys line up with the first one, after the dash.
                var inline = line
                inline.indent = content - (line.start - line.indent)
                inline.start = content
                pending.append(try mapping(startingAt: inline, following: &next, depth: depth + 1))
            } else {
                pending.append(try scalar(content, end: line.end))
                if let following, following.indent > indent { throw NotVouchedFor() }
            }
            guard let after = next, after.indent >= indent else { break }
            guard after.indent == indent, isItem(after) else {
                // A key at the sequence's own indentation ends a list that sat at its key's.
                if after.indent == indent { break }
                throw NotVouchedFor()
            }
            line = after
        }
        return collection(.array, from: base)
    }

    /// Whether the text holds a mapping's `: ` (or ends in `:`) outside quotes; a quoted start is
    /// a scalar.
    private func hasMappingColon(_ start: Int, end: Int) -> Bool {
        guard bytes[start] != UInt8(ascii: "\"") && bytes[start] != UInt8(ascii: "'") else { return false }
        return (start..<end).contains { isMappingColon(at: $0, end: end) }
    }

    /// Whether `index` holds a mapping's `:`, one followed by a space or ending the text at `end`.
    private func isMappingColon(at index: Int, end: Int) -> Bool {
        bytes[index] == UInt8(ascii: ":") && (index + 1 == end || bytes[index + 1] == UInt8(ascii: " "))
    }

    /// Whether `index` starts a comment: a `#` after a space.
    private func startsComment(at index: Int) -> Bool {
        bytes[index] == UInt8(ascii: "#") && index > 0 && bytes[index - 1] == UInt8(ascii: " ")
    }

    /// Whether a plain scalar may not start here: an indicator byte, or `-`, `?`, `:` before a space.
    private func startsIndicator(_ start: Int, end: Int) -> Bool {
        switch bytes[start] {
        case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: "#"),
             UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"),
             UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
            return start + 1 == end || bytes[start + 1] == UInt8(ascii: " ")
        default:
            return false
        }
    }

    /// A value that ends its line: a quoted string, `[]`, `{}`, or a plain scalar.
    private mutating func scalar(_ start: Int, end: Int) throws(NotVouchedFor) -> Int32 {
        let first = bytes[start]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            // Closed on this line, with nothing but the line's end after it, and no escape.
            guard end - start >= 2, bytes[end - 1] == first else { throw NotVouchedFor() }
            for index in (start + 1)..<(end - 1) {
                let byte = bytes[index]
                guard byte != first, byte != UInt8(ascii: "\\") || first == UInt8(ascii: "'") else { throw NotVouchedFor() }
            }
            return append(Node(kind: .plainString, start: Int32(start + 1), end: Int32(end - 1)))
        }
        if end - start == 2 && first == UInt8(ascii: "[") && bytes[start + 1] == UInt8(ascii: "]") { return collection(.array, from: pending.count) }
        if end - start == 2 && first == UInt8(ascii: "{") && bytes[start + 1] == UInt8(ascii: "}") { return collection(.object, from: pending.count) }
        guard !startsIndicator(start, end: end) else { throw NotVouchedFor() }
        // A comment after the value, or a `: ` (a mapping where none may be): the full parser's.
        for index in start..<end {
            if startsComment(at: index) || isMappingColon(at: index, end: end) { throw NotVouchedFor() }
        }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<end])
        let kind: Kind
        switch PlainScalar.type(of: text) {
        case (.string, _): kind = .plainString
        case (.null, _): kind = .null
        case (.bool, let value): kind = value == 0 ? .false : .true
        case (.int, _):
            // Digits alone are read as the JSON number they spell; other spellings of an int are not.
            guard text.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) else { throw NotVouchedFor() }
            kind = .number
        default:
            throw NotVouchedFor()
        }
        return append(Node(kind: kind, start: Int32(start), end: Int32(end)))
    }
}
