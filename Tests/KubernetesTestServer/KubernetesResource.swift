/// One resource type the fake API server serves: where it lives in the URL space, what its
/// objects and lists are called, and whether it is namespaced. The four are the ones ClusterDNS
/// follows (issue 13).
public struct KubernetesResource: Hashable, Sendable, CustomStringConvertible {
    public let kind: String
    public let plural: String
    /// "" for the core group (`/api/v1`), else the group (`/apis/<group>/v1`).
    public let group: String
    public let version: String
    public let namespaced: Bool
    let shortNames: [String]

    public static let services = KubernetesResource(kind: "Service", plural: "services", group: "", version: "v1", namespaced: true, shortNames: ["svc"])
    public static let endpointSlices = KubernetesResource(kind: "EndpointSlice", plural: "endpointslices", group: "discovery.k8s.io", version: "v1", namespaced: true, shortNames: [])
    public static let namespaces = KubernetesResource(kind: "Namespace", plural: "namespaces", group: "", version: "v1", namespaced: false, shortNames: ["ns"])
    public static let pods = KubernetesResource(kind: "Pod", plural: "pods", group: "", version: "v1", namespaced: true, shortNames: ["po"])

    public static let all: [KubernetesResource] = [.services, .endpointSlices, .namespaces, .pods]

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var description: String { plural }

    /// The resource whose objects have this `kind`.
    public static func of(kind: String) -> KubernetesResource? {
        all.first { $0.kind == kind }
    }
}
