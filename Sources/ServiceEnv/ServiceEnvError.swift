/// Why `clusterdns env` cannot produce an environment; `code` lets tests expect a specific failure,
/// `reason` is the sentence the user reads.
public struct ServiceEnvError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        case unknownNamespace
        case podNotFound
        case ambiguousPod
        case unrepresentableVariable
        case programNotFound
        case execFailed
    }

    public var code: Code
    public var reason: String

    public init(code: Code, reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }

    static func unknownNamespace(_ namespace: String, existing: [String]) -> ServiceEnvError {
        let list = existing.isEmpty ? "the registry has none" : "namespaces: " + existing.joined(separator: ", ")
        return ServiceEnvError(code: .unknownNamespace, reason: "namespace '\(namespace)' does not exist; \(list)")
    }

    static func podNotFound(_ name: String, namespace: String?, existing: [String]) -> ServiceEnvError {
        let place = namespace.map { "in namespace '\($0)'" } ?? "in any namespace"
        let list = existing.isEmpty ? "there are no pods" : "pods: " + existing.joined(separator: ", ")
        return ServiceEnvError(code: .podNotFound, reason: "no pod named '\(name)' \(place); \(list)")
    }

    static func ambiguousPod(_ name: String, namespaces: [String]) -> ServiceEnvError {
        ServiceEnvError(
            code: .ambiguousPod,
            reason: "pod '\(name)' exists in several namespaces (\(namespaces.joined(separator: ", "))); choose one with --namespace"
        )
    }

    static func unrepresentable(_ variable: EnvironmentVariable, format: String, why: String) -> ServiceEnvError {
        ServiceEnvError(code: .unrepresentableVariable, reason: "variable '\(variable.name)' cannot be written as \(format): \(why)")
    }
}
