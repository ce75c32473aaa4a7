/// One resource type the fake API server serves: where it lives in the URL space, what its
/// objects and lists are called, and whether it is namespaced. The four are the ones ClusterDNS
/// follows (issue 13).
struct ServedResource: Hashable, Sendable, CustomStringConvertible {
    let kind: String
    let plural: String
    /// "" for the core group (`/api/v1`), else the group (`/apis/<group>/v1`).
    let group: String
    let version: String
    let namespaced: Bool
    let shortNames: [String]

    static let services = ServedResource(kind: "Service", plural: "services", group: "", version: "v1", namespaced: true, shortNames: ["svc"])
    static let endpointSlices = ServedResource(kind: "EndpointSlice", plural: "endpointslices", group: "discovery.k8s.io", version: "v1", namespaced: true, shortNames: [])
    static let namespaces = ServedResource(kind: "Namespace", plural: "namespaces", group: "", version: "v1", namespaced: false, shortNames: ["ns"])
    static let pods = ServedResource(kind: "Pod", plural: "pods", group: "", version: "v1", namespaced: true, shortNames: ["po"])

    static let all: [ServedResource] = [.services, .endpointSlices, .namespaces, .pods]

    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    var description: String { plural }

    /// The resource whose objects have this `kind`.
    static func of(kind: String) -> ServedResource? {
        all.first { $0.kind == kind }
    }
}
