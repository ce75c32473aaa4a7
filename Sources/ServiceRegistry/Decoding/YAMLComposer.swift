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
/// without the intermediate tree.
final class YAMLComposer {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let event: UnsafeMutablePointer<yaml_event_t>
    private var anchors: [String: ManifestNode] = [:]

    /// The documents of `text` in order, null documents included, and the error that stopped
    /// composing, if any; the documents before the error are kept.
    static func documents(in text: String) -> (documents: [ManifestNode], error: YAMLSyntaxError?) {
        var text = text
        return text.withUTF8 { buffer in
            // libyaml wants a non-null input even when it is empty; an empty text has no documents.
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return ([], nil) }
            let composer = YAMLComposer(input: base, count: buffer.count)
            var documents: [ManifestNode] = []
            do throws(YAMLSyntaxError) {
                while let document = try composer.nextDocument() { documents.append(document) }
            } catch {
                return (documents, error)
            }
            return (documents, nil)
        }
    }

    /// `input` must outlive the composer (libyaml reads it in place).
    private init(input: UnsafePointer<UInt8>, count: Int) {
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

    /// The next document's root, nil at the end of the stream.
    private func nextDocument() throws(YAMLSyntaxError) -> ManifestNode? {
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

    /// The node that starts with the current event (of type `type`).
    private func node(_ type: yaml_event_type_t) throws(YAMLSyntaxError) -> ManifestNode {
        switch type {
        case YAML_SCALAR_EVENT:
            let scalar = event.pointee.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let isPlain = scalar.style == YAML_PLAIN_SCALAR_STYLE || scalar.style == YAML_ANY_SCALAR_STYLE
            let node = ManifestNode(isPlain ? PlainScalar.value(of: text) : .string(text), line: line)
            if let anchor = scalar.anchor { anchors[String(cString: anchor)] = node }
            return node
        case YAML_SEQUENCE_START_EVENT:
            let line = self.line
            let anchor = event.pointee.data.sequence_start.anchor.map { String(cString: $0) }
            var items: [ManifestNode] = []
            while true {
                let type = try next()
                if type == YAML_SEQUENCE_END_EVENT { break }
                items.append(try node(type))
            }
            let node = ManifestNode(.sequence(items), line: line)
            if let anchor { anchors[anchor] = node }
            return node
        case YAML_MAPPING_START_EVENT:
            let line = self.line
            let anchor = event.pointee.data.mapping_start.anchor.map { String(cString: $0) }
            var pairs: [(key: String, value: ManifestNode)] = []
            // A scan finds duplicates in the small mappings manifests have; a set keeps large ones linear.
            var keys: Set<String>?
            while true {
                let type = try next()
                if type == YAML_MAPPING_END_EVENT { break }
                let keyLine = self.line
                let key = try self.key(type)
                let isDuplicate: Bool
                if pairs.count < 16 {
                    isDuplicate = pairs.contains { $0.key == key }
                } else {
                    if keys == nil { keys = Set(pairs.map(\.key)) }
                    isDuplicate = !keys!.insert(key).inserted
                }
                if isDuplicate {
                    throw YAMLSyntaxError(problem: "duplicate key \"\(key)\" in a mapping (each key may appear once)", line: keyLine)
                }
                pairs.append((key: key, value: try node(try next())))
            }
            let node = ManifestNode(.mapping(pairs), line: line)
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

    /// A mapping key: the text of a scalar as written, or empty for a complex (mapping or list) key.
    private func key(_ type: yaml_event_type_t) throws(YAMLSyntaxError) -> String {
        guard type == YAML_SCALAR_EVENT else {
            _ = try node(type)
            return ""
        }
        let scalar = event.pointee.data.scalar
        let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
        if let anchor = scalar.anchor { anchors[String(cString: anchor)] = try node(type) }
        return text
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
