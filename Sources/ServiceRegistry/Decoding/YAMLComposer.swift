// libyaml as Yams bundles it. Yams's own composer builds a `Yams.Node` tree (a tag object per node,
// a hashed duplicate-key check per mapping, a Foundation string conversion per scalar) that we then
// converted once more; on 50k Services that was most of the load time. Composing our tree straight
// from the event stream does the same work once. CYaml is not a product of Yams, but SwiftPM makes
// the module of every C target in a dependency's graph importable, and it is the same copy Yams links.
import CYaml

/// A YAML syntax error as libyaml (or composing) reports it: what is wrong and, when known, the line.
struct YAMLSyntaxError: Error {
    var problem: String
    var line: Int?
}

/// Composes `ManifestNode` documents from libyaml's events: what Yams's `compose_all` with the
/// basic resolver did (anchors and aliases resolved, duplicate keys rejected, marks kept as lines),
/// without the intermediate tree. All documents of a text share one `ManifestTree`.
/// A non-copyable value rather than a class, so its state is reached without runtime exclusivity checks.
struct YAMLComposer: ~Copyable {
    private let events: LibYAMLEvents
    private var parser: UnsafeMutablePointer<yaml_parser_t> { events.parser }
    private var event: UnsafeMutablePointer<yaml_event_t> { events.event }
    private var tree: ManifestTreeBuilder
    private var anchors: [String: Int32] = [:]
    /// Children of the mappings and lists being composed, innermost last; each collection copies
    /// its run into the tree when it ends, so composing allocates nothing per collection.
    private var pending: [Int32] = []

    /// The documents of the YAML text `buffer` holds (as UTF-8) in order, null documents included,
    /// and the error that stopped composing, if any; the documents before the error are kept. The
    /// tree copies what it keeps of the text.
    static func documents(in buffer: UnsafeBufferPointer<UInt8>) -> (documents: [ManifestNode], error: YAMLSyntaxError?) {
        // libyaml wants a non-null input even when it is empty; an empty text has no documents.
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return ([], nil) }
        // The tree indexes nodes and text with 32 bits.
        guard buffer.count < Int(Int32.max) else {
            return ([], YAMLSyntaxError(problem: "file too large (at most 2 GiB of YAML)", line: nil))
        }
        var composer = YAMLComposer(input: base, count: buffer.count)
        var roots: [Int32] = []
        var failure: YAMLSyntaxError?
        do throws(YAMLSyntaxError) {
            while let root = try composer.nextDocument() { roots.append(root) }
        } catch {
            failure = error
        }
        let tree = composer.tree.finish()
        return (roots.map { ManifestNode(tree: tree, index: $0) }, failure)
    }

    /// `input` must outlive the composer (libyaml reads it in place).
    private init(input: UnsafePointer<UInt8>, count: Int) {
        tree = ManifestTreeBuilder(textSize: count)
        events = LibYAMLEvents(input: input, count: count)
    }

    /// The next document's root, nil at the end of the stream.
    private mutating func nextDocument() throws(YAMLSyntaxError) -> Int32? {
        var type = try next()
        if type == YAML_STREAM_START_EVENT { type = try next() }
        guard type == YAML_DOCUMENT_START_EVENT else { return nil }
        let root = try node(try next())
        _ = try next()  // YAML_DOCUMENT_END_EVENT
        return root
    }

    /// Parses the next event into `event` (freeing the previous one) and returns its type.
    private func next() throws(YAMLSyntaxError) -> yaml_event_type_t {
        yaml_event_delete(event)
        guard yaml_parser_parse(parser, event) == 1 else { throw parserError() }
        return event.pointee.type
    }

    private var line: Int { Int(event.pointee.start_mark.line) + 1 }

    /// The node that starts with the current event (of type `type`), added to the tree; its index.
    private mutating func node(_ type: yaml_event_type_t) throws(YAMLSyntaxError) -> Int32 {
        switch type {
        case YAML_SCALAR_EVENT:
            let scalar = event.pointee.data.scalar
            let text = UnsafeBufferPointer(start: scalar.value, count: scalar.length)
            let isPlain = scalar.style == YAML_PLAIN_SCALAR_STYLE || scalar.style == YAML_ANY_SCALAR_STYLE
            let kind = isPlain ? PlainScalar.type(of: text).kind : .string
            let node = tree.appendScalar(kind, text: text, line: line)
            if let anchor = scalar.anchor { anchors[String(cString: anchor)] = node }
            return node
        case YAML_SEQUENCE_START_EVENT:
            let line = self.line
            let anchor = event.pointee.data.sequence_start.anchor.map { String(cString: $0) }
            let base = pending.count
            while true {
                let type = try next()
                if type == YAML_SEQUENCE_END_EVENT { break }
                let item = try node(type)
                pending.append(item)
            }
            let node = pending[base...].withUnsafeBufferPointer { tree.appendCollection(.sequence, children: $0, line: line) }
            pending.removeSubrange(base...)
            if let anchor { anchors[anchor] = node }
            return node
        case YAML_MAPPING_START_EVENT:
            let line = self.line
            let anchor = event.pointee.data.mapping_start.anchor.map { String(cString: $0) }
            let base = pending.count
            var keys: Set<String>?
            while true {
                let type = try next()
                if type == YAML_MAPPING_END_EVENT { break }
                let keyLine = self.line
                let key = try self.key(type)
                if tree.repeatsKey(key, in: pending, from: base, seen: &keys) {
                    throw YAMLSyntaxError(problem: "duplicate key \"\(tree.text(of: key))\" in a mapping (each key may appear once)", line: keyLine)
                }
                let value = try node(try next())
                pending.append(key)
                pending.append(value)
            }
            let node = pending[base...].withUnsafeBufferPointer { tree.appendCollection(.mapping, children: $0, line: line) }
            pending.removeSubrange(base...)
            if let anchor { anchors[anchor] = node }
            return node
        case YAML_ALIAS_EVENT:
            let name = String(cString: event.pointee.data.alias.anchor)
            guard let node = anchors[name] else { throw YAMLSyntaxError(problem: "found undefined alias", line: line) }
            return node
        default:
            throw YAMLSyntaxError(problem: "unexpected event \(type.rawValue)", line: line)
        }
    }

    /// A mapping key as a string scalar: the text of a scalar as written, or empty for a complex
    /// (mapping or list) key, which is still composed so its anchors count.
    private mutating func key(_ type: yaml_event_type_t) throws(YAMLSyntaxError) -> Int32 {
        guard type == YAML_SCALAR_EVENT else {
            _ = try node(type)
            return tree.appendScalar(.string, text: "", line: line)
        }
        let scalar = event.pointee.data.scalar
        let key = tree.appendScalar(.string, text: UnsafeBufferPointer(start: scalar.value, count: scalar.length), line: line)
        if let anchor = scalar.anchor { anchors[String(cString: anchor)] = try node(type) }
        return key
    }

    /// The parser's error as Yams reported it: the problem, its context and the problem's line.
    private func parserError() -> YAMLSyntaxError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "unknown problem"
        switch state.error {
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
            var text = problem
            if let context = state.context {
                text += " (\(String(cString: context)) at line \(state.context_mark.line + 1))"
            }
            return YAMLSyntaxError(problem: text, line: Int(state.problem_mark.line) + 1)
        case YAML_MEMORY_ERROR:
            return YAMLSyntaxError(problem: "Memory error", line: nil)
        default:
            return YAMLSyntaxError(problem: problem, line: nil)
        }
    }
}

/// libyaml's parser over one input and its current event, freed with the value.
private struct LibYAMLEvents: ~Copyable {
    let parser: UnsafeMutablePointer<yaml_parser_t>
    let event: UnsafeMutablePointer<yaml_event_t>

    /// `input` must outlive the value (libyaml reads it in place).
    init(input: UnsafePointer<UInt8>, count: Int) {
        // libyaml keeps a pointer to the parser inside it, so the parser lives at a fixed address.
        parser = .allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        event = .allocate(capacity: 1)
        event.initialize(to: yaml_event_t())
        yaml_parser_initialize(parser)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(parser, input, count)
    }

    deinit {
        yaml_event_delete(event)
        yaml_parser_delete(parser)
        event.deallocate()
        parser.deallocate()
    }
}
