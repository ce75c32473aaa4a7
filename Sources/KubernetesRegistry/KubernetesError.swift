/// Why talking to the API server failed, with what it said.
public struct KubernetesError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// The configuration (kubeconfig, in-cluster files) is missing or wrong.
        case configuration
        /// No connection, a reset, a timeout: try again.
        case unavailable
        /// 401 or 403: the token or the RBAC.
        case unauthorized
        /// 410 Gone, or a watch's ERROR event with code 410: the resourceVersion is too old; list again.
        case expired
        /// An answer that is not what the API sends.
        case malformedResponse
        /// Any other refusal.
        case rejected
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
