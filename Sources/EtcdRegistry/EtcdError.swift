/// What went wrong talking to etcd, with the member asked and what it said, so a log line or a
/// `registry` command can name both. A value, not a string: callers decide on `code` whether to
/// retry on another member, relist, or give up.
public struct EtcdError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The member could not be reached, closed the connection, or answered 5xx: try another.
        case unavailable
        /// No answer within the request's timeout (an election, a lost quorum): try another.
        case timeout
        /// The member has no leader (quorum lost, or it is cut off): try another.
        case noLeader
        /// The revision asked for was compacted away: relist.
        case compacted
        /// etcd refused the request itself (bad argument, permission): retrying will not help.
        case rejected
        /// The answer was not what the v3 JSON gateway sends.
        case malformedResponse
    }

    public var code: Code
    /// What etcd (or the connection) said.
    public var message: String
    /// The member's URL, when one was asked.
    public var endpoint: String?
    /// The gRPC status code etcd gave, when it gave one.
    public var grpcCode: Int?

    public init(_ code: Code, _ message: String, endpoint: String? = nil, grpcCode: Int? = nil) {
        self.code = code
        self.message = message
        self.endpoint = endpoint
        self.grpcCode = grpcCode
    }

    /// Whether another member (or the same one later) may answer.
    public var isRetryable: Bool {
        switch code {
        case .unavailable, .timeout, .noLeader: return true
        case .compacted, .rejected, .malformedResponse: return false
        }
    }

    public var description: String {
        let at = endpoint.map { " (\($0))" } ?? ""
        return "etcd\(at): \(code.rawValue): \(message)"
    }
}
