/// A kind the source lists and watches, and where the API serves it.
public struct KubernetesResource: Sendable, Hashable, CustomStringConvertible {
    /// The kind of its objects, as the registry names them.
    public let kind: String
    /// Their group and version, which list items leave out.
    public let apiVersion: String
    /// The cluster-wide collection: `/api/v1/services`.
    public let path: String

    public static let services = KubernetesResource(kind: "Service", apiVersion: "v1", path: "/api/v1/services")
    public static let endpointSlices = KubernetesResource(kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1", path: "/apis/discovery.k8s.io/v1/endpointslices")
    public static let namespaces = KubernetesResource(kind: "Namespace", apiVersion: "v1", path: "/api/v1/namespaces")
    public static let pods = KubernetesResource(kind: "Pod", apiVersion: "v1", path: "/api/v1/pods")

    /// What DNS reads: Services, EndpointSlices and Namespaces, and Pods only when pod names are
    /// verified or autopath needs to know clients' namespaces (a Pod watch is the big one).
    public static func needed(pods: Bool) -> [KubernetesResource] {
        [.services, .endpointSlices, .namespaces] + (pods ? [.pods] : [])
    }

    public var description: String { path }
}
