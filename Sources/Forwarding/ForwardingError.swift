/// Why forwarding could not be set up, or why one exchange with an upstream failed: a code tests
/// can expect, a reason for people, and where (a file and line, an upstream).
public struct ForwardingError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// A `--forward` value that is neither an IP address (with an optional port) nor a file.
        public static let badUpstream = Code(name: "badUpstream")
        /// A resolv.conf that cannot be read, or names no usable nameserver.
        public static let badResolvConf = Code(name: "badResolvConf")
        /// More upstreams than `ForwardingConfiguration.maxUpstreams`.
        public static let tooManyUpstreams = Code(name: "tooManyUpstreams")
        /// No reply that matched the query within its time.
        public static let timeout = Code(name: "timeout")
        /// The socket failed: refused, unreachable, reset.
        public static let network = Code(name: "network")
        /// Our own probe came back to us through the upstreams.
        public static let loop = Code(name: "loop")
    }

    public var code: Code
    public var reason: String
    /// The file (and line) or upstream the error is about, when there is one.
    public var location: String?

    public init(_ code: Code, _ reason: String, location: String? = nil) {
        self.code = code
        self.reason = reason
        self.location = location
    }

    public var description: String {
        location.map { "\($0): \(reason)" } ?? reason
    }

    /// Equal when the codes are: a test expects a kind of failure, not its wording.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
