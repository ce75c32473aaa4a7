/// Reads the fields of one object and records every problem with its field path and line, so a
/// decoder keeps going after the first mistake and the user sees them all at once.
final class ObjectReader {
    let file: String
    let objectLine: Int?
    /// Set once `metadata` is read, so later errors name the object.
    var object: ObjectReference?
    /// Errors and warnings, as found.
    private(set) var errors: [RegistryError] = []

    /// True when a problem leaves the object out; warnings alone do not.
    var hasErrors: Bool { errors.contains { !$0.isWarning } }

    /// The errors sorted by line (stable), so they read top to bottom like the file.
    var errorsInDocumentOrder: [RegistryError] {
        // Nearly every object has none: nothing to sort.
        guard errors.count > 1 else { return errors }
        return errors.enumerated().sorted { lhs, rhs in
            (lhs.element.location?.line ?? 0, lhs.offset) < (rhs.element.location?.line ?? 0, rhs.offset)
        }.map(\.element)
    }

    /// Where the object says its content is from, when not where it was read (a stored value
    /// decoded in a batch is from its key, not from a line of the batch).
    let source: SourceLocation?

    init(file: String, objectLine: Int?, object: ObjectReference? = nil, source: SourceLocation? = nil) {
        self.file = file
        self.objectLine = objectLine
        self.object = object
        self.source = source
    }

    /// The field's own line when the parser knows it, else the object's.
    func location(of node: ManifestNode?) -> SourceLocation {
        SourceLocation(file: file, line: node?.line ?? objectLine)
    }

    /// What the content read from `node` is located at: `source` when given, else the node's place.
    func source(of node: ManifestNode) -> SourceLocation {
        source ?? location(of: node)
    }

    func fail(_ code: RegistryError.Code, _ reason: String, field: String?, node: ManifestNode? = nil) {
        errors.append(RegistryError(code: code, reason: reason, location: location(of: node), object: object, field: field))
    }

    /// Records a departure from the API server's validation that the server can still interpret;
    /// the object is kept.
    func warn(_ code: RegistryError.Code, _ reason: String, field: String?, node: ManifestNode? = nil) {
        errors.append(RegistryError(code: code, reason: reason, location: location(of: node), object: object, field: field, severity: .warning))
    }

    // MARK: Typed fields. Each returns nil when the field is absent or null, and records an error
    // (returning nil) when it holds the wrong type.

    func string(_ node: ManifestNode?, field: @autoclosure () -> String) -> String? {
        guard let node, !node.isNull else { return nil }
        if let text = node.string { return text }
        fail(.invalidValue, "expected a string, found \(node.typeDescription)\(quoteHint(node))", field: field(), node: node)
        return nil
    }

    func int(_ node: ManifestNode?, field: @autoclosure () -> String) -> Int? {
        guard let node, !node.isNull else { return nil }
        if let value = node.int { return value }
        fail(.invalidValue, "expected an integer, found \(node.typeDescription) \(describe(node))", field: field(), node: node)
        return nil
    }

    func bool(_ node: ManifestNode?, field: @autoclosure () -> String) -> Bool? {
        guard let node, !node.isNull else { return nil }
        if let value = node.bool { return value }
        fail(.invalidValue, "expected true or false, found \(node.typeDescription) \(describe(node))", field: field(), node: node)
        return nil
    }

    /// The node itself when it is a mapping.
    func mapping(_ node: ManifestNode?, field: @autoclosure () -> String) -> ManifestNode? {
        guard let node, !node.isNull else { return nil }
        if node.kind == .mapping { return node }
        fail(.invalidValue, "expected a mapping, found \(node.typeDescription)", field: field(), node: node)
        return nil
    }

    /// The items of a list; empty when absent or null.
    func sequence(_ node: ManifestNode?, field: @autoclosure () -> String) -> [ManifestNode] {
        guard let node, !node.isNull else { return [] }
        if node.kind == .sequence { return node.items }
        fail(.invalidValue, "expected a list, found \(node.typeDescription)", field: field(), node: node)
        return []
    }

    /// A `map[string]string` such as labels or a selector.
    func stringMap(_ node: ManifestNode?, field: @autoclosure () -> String) -> [String: String]? {
        guard let node = mapping(node, field: field()) else { return nil }
        var result: [String: String] = [:]
        for (key, value) in node.pairs {
            if let text = string(value, field: "\(field())[\(key)]") { result[key] = text }
        }
        return result
    }

    /// Checks a `map[string]string` as `stringMap` does, without building it; the mapping, if it is one.
    func checkStringMap(_ node: ManifestNode?, field: @autoclosure () -> String) -> ManifestNode? {
        guard let node = mapping(node, field: field()) else { return nil }
        node.forEachPair { key, value in
            if value.kind != .string && value.kind != .null {
                _ = string(value, field: "\(field())[\(key.string ?? "")]")
            }
        }
        return node
    }

    /// A string field that must be present and non-empty.
    func requiredString(_ node: ManifestNode?, field: @autoclosure () -> String, parent: ManifestNode?) -> String? {
        guard let text = string(node, field: field()) else {
            if node == nil || node?.isNull == true {
                fail(.missingField, "required field is missing", field: field(), node: parent)
            }
            return nil
        }
        if text.isEmpty {
            fail(.missingField, "required field is empty", field: field(), node: node)
            return nil
        }
        return text
    }

    func ip(_ node: ManifestNode?, field: @autoclosure () -> String) -> IPAddress? {
        guard let text = string(node, field: field()) else { return nil }
        guard let address = IPAddress(text) else {
            fail(.invalidIP, "\"\(text)\" is not an IP address (expected IPv4 like 10.96.0.10 or IPv6 like fd00::10)", field: field(), node: node)
            return nil
        }
        return address
    }

    /// A port number in 1-65535.
    func port(_ node: ManifestNode?, field: @autoclosure () -> String, parent: ManifestNode?) -> Int? {
        guard let value = int(node, field: field()) else {
            if node == nil || node?.isNull == true {
                fail(.missingField, "required field is missing (expected a port number 1-65535)", field: field(), node: parent)
            }
            return nil
        }
        guard (1...65535).contains(value) else {
            fail(.portOutOfRange, "\(value) is out of range (expected 1-65535)", field: field(), node: node)
            return nil
        }
        return value
    }

    /// `protocol`: TCP, UDP or SCTP; absent, null or `""` is TCP, as the API server defaults it
    /// (Service, Endpoints and container ports alike).
    func portProtocol(_ node: ManifestNode?, field: @autoclosure () -> String) -> PortProtocol? {
        guard let text = string(node, field: field()) else { return node == nil || node?.isNull == true ? .tcp : nil }
        if text.isEmpty { return .tcp }
        guard let value = PortProtocol(rawValue: text) else {
            fail(.invalidValue, "\"\(text)\" is not a supported protocol (expected TCP, UDP or SCTP)", field: field(), node: node)
            return nil
        }
        return value
    }

    /// Checks a name against a DNS rule, recording `invalidDNSLabel` with what was expected.
    @discardableResult
    func checkName(_ name: String, field: @autoclosure () -> String, node: ManifestNode?, rule: (String) -> Bool, expected: String) -> Bool {
        guard rule(name) else {
            fail(.invalidDNSLabel, "\"\(name)\" is not \(expected)", field: field(), node: node)
            return false
        }
        return true
    }

    /// A `targetRef`: kind and name, namespace defaulting to the referring object's.
    func objectReference(_ node: ManifestNode?, field: @autoclosure () -> String, defaultNamespace: String) -> ObjectReference? {
        guard let node = mapping(node, field: field()) else { return nil }
        let kind = string(node["kind"], field: "\(field()).kind") ?? ""
        let namespace = string(node["namespace"], field: "\(field()).namespace") ?? ""
        guard let name = string(node["name"], field: "\(field()).name"), !name.isEmpty else { return nil }
        return ObjectReference(kind: kind, namespace: namespace.isEmpty ? defaultNamespace : namespace, name: name)
    }

    /// An endpoint or pod `hostname`, which must be a DNS label because it becomes one.
    func hostname(_ node: ManifestNode?, field: @autoclosure () -> String) -> String? {
        guard let text = string(node, field: field()), !text.isEmpty else { return nil }
        return checkName(text, field: field(), node: node, rule: NameRules.isRFC1123Label, expected: NameRules.rfc1123Expectation) ? text : nil
    }

    /// One entry of an endpoint `ports` list: name (optional label), protocol, port.
    func endpointPort(_ node: ManifestNode, field: @autoclosure () -> String) -> EndpointPort? {
        guard mapping(node, field: field()) != nil else { return nil }
        let nameNode = node["name"]
        let name = string(nameNode, field: "\(field()).name") ?? ""
        if !name.isEmpty {
            checkName(name, field: "\(field()).name", node: nameNode, rule: NameRules.isRFC1123Label, expected: NameRules.rfc1123Expectation)
        }
        guard let portProtocol = portProtocol(node["protocol"], field: "\(field()).protocol"),
              let port = port(node["port"], field: "\(field()).port", parent: node) else { return nil }
        return EndpointPort(name: name, protocol: portProtocol, port: port)
    }

    private func describe(_ node: ManifestNode) -> String {
        node.scalarText.map { "\"\($0)\"" } ?? ""
    }

    private func quoteHint(_ node: ManifestNode) -> String {
        guard let text = node.scalarText else { return "" }
        return " \(text) (quote it: \"\(text)\")"
    }
}
