import ServiceRegistry

/// Whose environment to build: a namespace and its `enableServiceLinks`, given directly or read
/// from a Pod of the registry, checked against the registry so a typo is an error, not an empty list.
public struct PodTarget: Hashable, Sendable {
    public static let defaultNamespace = "default"

    public var namespace: String
    public var enableServiceLinks: Bool
    /// The Pod the target was read from, if any.
    public var pod: ObjectReference?

    public init(namespace: String, enableServiceLinks: Bool = true, pod: ObjectReference? = nil) {
        self.namespace = namespace
        self.enableServiceLinks = enableServiceLinks
        self.pod = pod
    }

    /// Resolves the command-line choice against `snapshot`.
    ///
    /// - Parameters:
    ///   - namespace: `--namespace`, nil when not given (then `default`, or the pod's namespace).
    ///   - podName: `--pod`; found in `namespace` when given, else in whichever namespace holds it.
    ///   - serviceLinksDisabled: `--no-service-links`; otherwise the pod's `enableServiceLinks`
    ///     (absent means the API default, true).
    public static func resolve(
        in snapshot: RegistrySnapshot,
        namespace: String?,
        podName: String?,
        serviceLinksDisabled: Bool
    ) throws(ServiceEnvError) -> PodTarget {
        guard let podName else {
            let namespace = namespace ?? defaultNamespace
            guard snapshot.hasNamespace(namespace) else {
                throw .unknownNamespace(namespace, existing: snapshot.namespaces)
            }
            return PodTarget(namespace: namespace, enableServiceLinks: !serviceLinksDisabled)
        }
        let pod: Pod
        if let namespace {
            guard snapshot.hasNamespace(namespace) else {
                throw .unknownNamespace(namespace, existing: snapshot.namespaces)
            }
            guard let found = snapshot.pod(namespace: namespace, name: podName) else {
                let names = snapshot.pods.filter { $0.namespace.lowercased() == namespace.lowercased() }.map(\.name)
                throw .podNotFound(podName, namespace: namespace, existing: names)
            }
            pod = found
        } else {
            let matches = snapshot.pods.filter { $0.name.lowercased() == podName.lowercased() }
            guard let first = matches.first else {
                throw .podNotFound(podName, namespace: nil, existing: snapshot.pods.map { "\($0.namespace)/\($0.name)" })
            }
            guard matches.count == 1 else { throw .ambiguousPod(podName, namespaces: matches.map(\.namespace)) }
            pod = first
        }
        return PodTarget(
            namespace: pod.namespace,
            enableServiceLinks: !serviceLinksDisabled && (pod.enableServiceLinks ?? true),
            pod: pod.reference
        )
    }
}
