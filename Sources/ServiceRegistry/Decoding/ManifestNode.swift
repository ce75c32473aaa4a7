#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed YAML or JSON value with the line it starts on, so decoding can point errors at a field.
/// One tree for both formats keeps the object decoders format-blind.
///
/// A node is a position in its file's `ManifestTree`: the tree holds every node of a file in one
/// array and every scalar's text in one byte buffer, so parsing a file costs a few growing arrays
/// instead of an allocation per node, and a scalar becomes a `String` only when a decoder reads it.
struct ManifestNode {
    enum Kind: UInt8 {
        case null, string, int, double, bool, mapping, sequence
    }

    let tree: ManifestTree
    let index: Int32

    init(tree: ManifestTree, index: Int32) {
        self.tree = tree
        self.index = index
    }

    private var entry: ManifestTree.Entry { tree.entries[Int(index)] }

    var kind: Kind { entry.kind }

    /// 1-based line, nil when the parser could not tell (JSON read without line tracking).
    var line: Int? {
        let line = entry.line
        return line > 0 ? Int(line) : nil
    }

    var isNull: Bool { kind == .null }

    /// The text of a string scalar; nil for any other kind.
    var string: String? { kind == .string ? tree.text(of: entry) : nil }

    /// The value of an integer scalar; nil for any other kind.
    var int: Int? { kind == .int ? Int(tree.number(of: entry)) : nil }

    /// The value of a boolean scalar; nil for any other kind.
    var bool: Bool? { kind == .bool ? tree.number(of: entry) != 0 : nil }

    /// The value of `key` in a mapping; nil for absent keys and for non-mappings.
    subscript(key: String) -> ManifestNode? {
        let entry = self.entry
        guard entry.kind == .mapping else { return nil }
        var key = key
        return key.withUTF8 { wanted in
            var child = Int(entry.start)
            let end = entry.range.upperBound
            while child < end {
                if tree.text(of: tree.children[child], equals: wanted) {
                    return ManifestNode(tree: tree, index: tree.children[child + 1])
                }
                child += 2
            }
            return nil
        }
    }

    /// A mapping's keys and values in document order; empty for non-mappings.
    var pairs: [(key: String, value: ManifestNode)] {
        let entry = self.entry
        guard entry.kind == .mapping else { return [] }
        return stride(from: Int(entry.start), to: entry.range.upperBound, by: 2).map { child in
            (key: tree.text(of: tree.entries[Int(tree.children[child])]), value: ManifestNode(tree: tree, index: tree.children[child + 1]))
        }
    }

    /// Calls `body` with each key (a string node) and value of a mapping, without making strings.
    func forEachPair(_ body: (_ key: ManifestNode, _ value: ManifestNode) -> Void) {
        let entry = self.entry
        guard entry.kind == .mapping else { return }
        for child in stride(from: Int(entry.start), to: entry.range.upperBound, by: 2) {
            body(ManifestNode(tree: tree, index: tree.children[child]), ManifestNode(tree: tree, index: tree.children[child + 1]))
        }
    }

    /// A list's items; empty for non-lists.
    var items: [ManifestNode] {
        let entry = self.entry
        guard entry.kind == .sequence else { return [] }
        return tree.children[entry.range].map { ManifestNode(tree: tree, index: $0) }
    }

    /// The text of any scalar (`80`, `true`, `web`); nil for null, mappings and sequences.
    var scalarText: String? {
        switch kind {
        case .string, .int, .double, .bool: return tree.text(of: entry)
        case .null, .mapping, .sequence: return nil
        }
    }

    /// A short name of the value's type for error messages (`a mapping`, `a string`).
    var typeDescription: String {
        switch kind {
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

/// The nodes of one file, flat: what `ManifestNode`s point into. Read-only, so reading it needs no
/// exclusivity checks; `ManifestTreeBuilder` fills it.
final class ManifestTree {
    /// 12 bytes a node: a number or boolean is read again from its text when a decoder asks.
    struct Entry {
        /// Scalars: their text's offset in `bytes`, or in the source text when `inSourceBit` is set;
        /// mappings and lists: their first child in `children`.
        var start: UInt32
        /// Scalars: text length in bytes; mappings: 2 × pairs (key, value, ...); lists: items.
        var count: UInt32
        /// The line in the low 29 bits, the kind in the high 3: 16 bytes a node would be 27 MB more
        /// for a 50k-Service JSON List.
        private var lineAndKind: UInt32

        static let inSourceBit: UInt32 = 1 << 31
        static let maximumLine: UInt32 = 1 << 29 - 1

        init(start: UInt32, count: UInt32, line: UInt32, kind: ManifestNode.Kind) {
            self.start = start
            self.count = count
            lineAndKind = min(line, Self.maximumLine) | UInt32(kind.rawValue) << 29
        }

        /// 1-based line, 0 when unknown (lines past 2^29 read as that).
        var line: UInt32 { lineAndKind & Self.maximumLine }

        var kind: ManifestNode.Kind { ManifestNode.Kind(rawValue: UInt8(lineAndKind >> 29)) ?? .null }

        var range: Range<Int> {
            let offset = Int(start & ~Self.inSourceBit)
            return offset..<(offset + Int(count))
        }
    }

    let entries: UnsafeBufferPointer<Entry>
    /// Scalar texts, mapping keys included, one after another: all of YAML's (libyaml hands them
    /// over in buffers it reuses), and JSON's strings with escapes.
    let bytes: UnsafeBufferPointer<UInt8>
    /// Children of mappings (key and value entries in turn) and lists, each node's in one run.
    let children: UnsafeBufferPointer<Int32>
    /// The JSON text whose scalars are read in place; empty for YAML.
    let source: UnsafeBufferPointer<UInt8>
    /// What keeps the buffers above alive: the arrays and the text of a finished tree; nil for a
    /// view of a tree still being built (`ManifestTreeBuilder.withView`), valid only for the call.
    private let storage: Storage?

    /// The arrays a finished tree reads, and the JSON text its scalars point into.
    final class Storage {
        let entries: PageArray<Entry>
        let bytes: PageArray<UInt8>
        let children: PageArray<Int32>
        private let source: String
        /// A text of up to 15 bytes lives inside its `String` value, not in storage of its own, so a
        /// pointer to it would not outlive the call that made it: such a text is copied here.
        private let smallSource: UnsafeMutableBufferPointer<UInt8>?

        init(entries: consuming PageArray<Entry>, bytes: consuming PageArray<UInt8>, children: consuming PageArray<Int32>, source: String) {
            self.entries = entries
            self.bytes = bytes
            self.children = children
            var source = source
            source.makeContiguousUTF8()
            self.source = source
            if source.utf8.count < 16 {
                let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 16)
                _ = copy.initialize(from: source.utf8)
                smallSource = UnsafeMutableBufferPointer(rebasing: copy[..<source.utf8.count])
            } else {
                smallSource = nil
            }
        }

        deinit {
            smallSource?.deallocate()
        }

        /// The text's bytes, valid while this storage lives.
        var sourceBytes: UnsafeBufferPointer<UInt8> {
            if let smallSource { return UnsafeBufferPointer(smallSource) }
            return source.utf8.withContiguousStorageIfAvailable { $0 }!
        }
    }

    init(storage: Storage) {
        self.storage = storage
        entries = storage.entries.buffer
        bytes = storage.bytes.buffer
        children = storage.children.buffer
        source = storage.sourceBytes
    }

    /// A view of arrays someone else owns, for as long as they stay unchanged.
    init(viewing entries: UnsafeBufferPointer<Entry>, bytes: UnsafeBufferPointer<UInt8>, children: UnsafeBufferPointer<Int32>, source: UnsafeBufferPointer<UInt8>) {
        self.storage = nil
        self.entries = entries
        self.bytes = bytes
        self.children = children
        self.source = source
    }

    /// Calls `body` with a scalar's UTF-8 text, wherever it is kept.
    @inline(__always)
    func withText<Result>(of entry: Entry, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        body(UnsafeBufferPointer(rebasing: (entry.start & Entry.inSourceBit != 0 ? source : bytes)[entry.range]))
    }

    func text(of entry: Entry) -> String {
        withText(of: entry) { String(decoding: $0, as: UTF8.self) }
    }

    /// An int scalar's value, or 1 for a true and 0 for a false one.
    func number(of entry: Entry) -> Int64 {
        withText(of: entry) { PlainScalar.type(of: $0).number }
    }

    /// True when the scalar at `index` has exactly the bytes `wanted`.
    func text(of index: Int32, equals wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        let entry = entries[Int(index)]
        guard Int(entry.count) == wanted.count else { return false }
        return withText(of: entry) { Self.same($0, wanted) }
    }

    static func same(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) -> Bool {
        guard first.count == second.count else { return false }
        guard !first.isEmpty else { return true }
        return memcmp(first.baseAddress!, second.baseAddress!, first.count) == 0
    }
}

/// Fills a `ManifestTree`: the composers' only mutable state, a value so appending needs no runtime
/// exclusivity checks.
struct ManifestTreeBuilder: ~Copyable {
    private var entries: PageArray<ManifestTree.Entry>
    private var bytes: PageArray<UInt8>
    private var children: PageArray<Int32>
    /// The text being composed, for scalars appended with `appendSourceScalar`; valid while composing.
    private var source: UnsafeBufferPointer<UInt8>

    /// Reserves room for the tree of a text of `size` bytes (a node takes a few bytes of text at
    /// least, a scalar's text is no longer than its source), so the arrays rarely need to grow.
    init(textSize size: Int) {
        self.init(textSize: size, source: UnsafeBufferPointer(start: nil, count: 0))
    }

    /// A builder whose scalars may point into `source` instead of copying it (JSON, read in place);
    /// `source` must stay valid while building, and `finish(source:)` must keep its text.
    init(source: UnsafeBufferPointer<UInt8>) {
        self.init(textSize: source.count, source: source)
    }

    private init(textSize size: Int, source: UnsafeBufferPointer<UInt8>) {
        entries = PageArray(reserving: size / 4 + 64)
        bytes = PageArray(reserving: source.isEmpty ? size + 64 : 4096)
        children = PageArray(reserving: size / 4 + 64)
        self.source = source
    }

    /// Adds a scalar with its text (its kind as `PlainScalar` decided, or `.string`); returns its index.
    mutating func appendScalar(_ kind: ManifestNode.Kind, text: UnsafeBufferPointer<UInt8>, line: Int?) -> Int32 {
        let start = bytes.count
        bytes.append(contentsOf: text)
        return append(ManifestTree.Entry(start: UInt32(start), count: UInt32(text.count), line: Self.line(line), kind: kind))
    }

    mutating func appendScalar(_ kind: ManifestNode.Kind, text: String, line: Int?) -> Int32 {
        var text = text
        return text.withUTF8 { appendScalar(kind, text: $0, line: line) }
    }

    /// Adds a scalar whose text is `range` of the source, without copying it; returns its index.
    mutating func appendSourceScalar(_ kind: ManifestNode.Kind, range: Range<Int>, line: Int) -> Int32 {
        append(ManifestTree.Entry(
            start: UInt32(range.lowerBound) | ManifestTree.Entry.inSourceBit, count: UInt32(range.count),
            line: Self.line(line), kind: kind))
    }

    /// Adds a mapping (`children` holds key and value indexes in turn) or a list; returns its index.
    mutating func appendCollection(_ kind: ManifestNode.Kind, children: UnsafeBufferPointer<Int32>, line: Int?) -> Int32 {
        let start = self.children.count
        self.children.append(contentsOf: children)
        return append(ManifestTree.Entry(start: UInt32(start), count: UInt32(children.count), line: Self.line(line), kind: kind))
    }

    func text(of index: Int32) -> String {
        String(decoding: text(of: entries[Int(index)]), as: UTF8.self)
    }

    /// True when two scalars have the same text.
    func sameText(_ first: Int32, _ second: Int32) -> Bool {
        let first = entries[Int(first)], second = entries[Int(second)]
        guard first.count == second.count else { return false }
        return ManifestTree.same(text(of: first), text(of: second))
    }

    /// Whether `key` repeats one of the keys of the mapping being composed, whose key and value
    /// indexes are `pending[base...]` in turn. A scan finds duplicates in the small mappings
    /// manifests have; past 16 pairs `seen` (the caller's, one per mapping) keeps large ones linear.
    func repeatsKey(_ key: Int32, in pending: [Int32], from base: Int, seen: inout Set<String>?) -> Bool {
        let keys = stride(from: base, to: pending.count, by: 2)
        if (pending.count - base) / 2 < 16 {
            return keys.contains { sameText(pending[$0], key) }
        }
        if seen == nil { seen = Set(keys.map { text(of: pending[$0]) }) }
        return !seen!.insert(text(of: key)).inserted
    }

    /// `source` is the text the builder was made with (empty for a builder without one): the tree
    /// keeps it, as its scalars point into it.
    consuming func finish(source: String = "") -> ManifestTree {
        ManifestTree(storage: ManifestTree.Storage(entries: entries, bytes: bytes, children: children, source: source))
    }

    /// The tree built so far, for `body` only: nothing may keep a node of it past the call.
    func withView<Result>(_ body: (ManifestTree) -> Result) -> Result {
        body(ManifestTree(viewing: entries.buffer, bytes: bytes.buffer, children: children.buffer, source: source))
    }

    /// How far the tree is built, to go back to with `truncate(to:)`.
    struct Mark {
        fileprivate var entries: Int, bytes: Int, children: Int
    }

    var mark: Mark { Mark(entries: entries.count, bytes: bytes.count, children: children.count) }

    /// Forgets every node added since `mark`: a streamed list's item once decoded, or one parsed
    /// again from a refilled buffer.
    mutating func truncate(to mark: Mark) {
        entries.removeLast(entries.count - mark.entries)
        bytes.removeLast(bytes.count - mark.bytes)
        children.removeLast(children.count - mark.children)
    }

    /// The text scalars appended from now on point into (a streamed file's buffer moves when refilled).
    mutating func rebase(source: UnsafeBufferPointer<UInt8>) {
        self.source = source
    }

    private func text(of entry: ManifestTree.Entry) -> UnsafeBufferPointer<UInt8> {
        let buffer = entry.start & ManifestTree.Entry.inSourceBit != 0 ? source : bytes.buffer
        return UnsafeBufferPointer(rebasing: buffer[entry.range])
    }

    private mutating func append(_ entry: ManifestTree.Entry) -> Int32 {
        entries.append(entry)
        return Int32(entries.count - 1)
    }

    private static func line(_ line: Int?) -> UInt32 {
        line.map { UInt32(clamping: $0) } ?? 0
    }
}
