/// Everything that can be wrong with a registry, as one value that says where: the file and line,
/// the object, the field, and what was expected. Loading collects all of them instead of stopping.
///
/// An `.error` is something the server cannot use (an unparseable IP, no name, a wrong type): the
/// object is left out. A `.warning` is a departure from the API server's validation that the server
/// can still interpret (an unnamed port among several): the object is served, and only
/// `clusterdns check --strict` fails on it.
///
/// Equality and hashing compare only the `code`, as swift-asn1's errors do, so a test can write
/// `#expect(result.errors.contains(RegistryError(code: .invalidIP)))`.
public struct RegistryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem; an open set so new checks can add codes without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String

        public init(_ name: String) { self.name = name }

        public var description: String { name }

        /// The text is not YAML (with the line libyaml stopped at).
        public static let yamlSyntax = Code("yamlSyntax")
        /// A `.json` file that is not JSON.
        public static let invalidJSON = Code("invalidJSON")
        /// A required field is absent or empty.
        public static let missingField = Code("missingField")
        /// A field that must hold an IP address holds something else.
        public static let invalidIP = Code("invalidIP")
        /// The same kind, namespace and name appear twice.
        public static let duplicateObject = Code("duplicateObject")
        /// A port number outside 1-65535.
        public static let portOutOfRange = Code("portOutOfRange")
        /// A name that DNS cannot carry (not an RFC 1035/1123 label or subdomain).
        public static let invalidDNSLabel = Code("invalidDNSLabel")
        /// Two Services claim the same ClusterIP, or allocation found no free address.
        public static let clusterIPClash = Code("clusterIPClash")
        /// A field has the wrong type or a value the API server would reject.
        public static let invalidValue = Code("invalidValue")
        /// A path that does not exist or cannot be read.
        public static let unreadableFile = Code("unreadableFile")
        /// A path holds no `.yaml`, `.yml` or `.json` file, or no object at all.
        public static let noManifests = Code("noManifests")
    }

    /// Whether the object was left out (`.error`) or served anyway (`.warning`).
    public enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    public var code: Code
    public var severity: Severity
    /// What is wrong and what was expected, e.g. `70000 is out of range (expected 1-65535)`.
    public var reason: String
    public var location: SourceLocation?
    public var object: ObjectReference?
    /// The field path, e.g. `spec.ports[0].port`.
    public var field: String?

    public init(
        code: Code,
        reason: String = "",
        location: SourceLocation? = nil,
        object: ObjectReference? = nil,
        field: String? = nil,
        severity: Severity = .error
    ) {
        self.code = code
        self.severity = severity
        self.reason = reason
        self.location = location
        self.object = object
        self.field = field
    }

    public var isWarning: Bool { severity == .warning }

    /// `zones/shop.yaml:12: Service shop/web: spec.ports[0].port: 70000 is out of range (expected 1-65535)`;
    /// a warning says so after the location, as compilers do:
    /// `zones/shop.yaml:12: warning: Service shop/web: spec.ports[1].name: ...`.
    public var description: String {
        var parts: [String] = []
        if let location { parts.append(location.description) }
        if severity == .warning { parts.append("warning") }
        if let object { parts.append(object.description) }
        if let field { parts.append(field) }
        parts.append(reason.isEmpty ? code.name : reason)
        return parts.joined(separator: ": ")
    }

    public static func == (lhs: RegistryError, rhs: RegistryError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
    }
}
