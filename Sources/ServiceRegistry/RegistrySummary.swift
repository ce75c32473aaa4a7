/// The counts `clusterdns check` prints, so a user can see at a glance that the registry holds
/// what they meant it to.
public struct RegistrySummary: Sendable, Hashable, CustomStringConvertible {
    /// Non-headless services of type ClusterIP.
    public var clusterIPServices = 0
    public var nodePortServices = 0
    public var loadBalancerServices = 0
    public var externalNameServices = 0
    /// Services with `clusterIP: None` (counted here only, not under ClusterIP).
    public var headlessServices = 0
    /// Services whose ClusterIP was allocated because the manifest had none.
    public var allocatedClusterIPs = 0
    public var readyEndpoints = 0
    public var notReadyEndpoints = 0
    public var pods = 0
    public var namespaces = 0
    public var files = 0
    /// Objects of other kinds that were skipped.
    public var skippedObjects = 0
    /// Problems that left an object out.
    public var errors = 0
    /// Departures from API validation that were served anyway (errors under `check --strict`).
    public var warnings = 0

    public init() {}

    public var services: Int {
        clusterIPServices + nodePortServices + loadBalancerServices + externalNameServices + headlessServices
    }

    public var endpoints: Int { readyEndpoints + notReadyEndpoints }

    /// A few lines, e.g. `11 services: 5 ClusterIP, 1 NodePort, ...`.
    public var description: String {
        var lines: [String] = []
        lines.append(
            "\(services) \(plural(services, "service")): \(clusterIPServices) ClusterIP, \(nodePortServices) NodePort, "
                + "\(loadBalancerServices) LoadBalancer, \(externalNameServices) ExternalName, \(headlessServices) headless"
                + (allocatedClusterIPs > 0 ? " (\(allocatedClusterIPs) ClusterIP\(allocatedClusterIPs == 1 ? "" : "s") allocated)" : "")
        )
        lines.append("\(endpoints) \(plural(endpoints, "endpoint")): \(readyEndpoints) ready, \(notReadyEndpoints) not ready")
        lines.append("\(pods) \(plural(pods, "pod")), \(namespaces) \(plural(namespaces, "namespace"))")
        var read = "\(files) \(plural(files, "file")) read"
        if skippedObjects > 0 { read += ", \(skippedObjects) \(plural(skippedObjects, "object")) of other kinds skipped" }
        lines.append(read)
        if errors == 0 && warnings == 0 {
            lines.append("registry is valid")
        } else {
            // `0 errors, 1 warning` reads right with and without --strict; check's exit status says which.
            lines.append("\(errors) \(plural(errors, "error"))" + (warnings > 0 ? ", \(warnings) \(plural(warnings, "warning"))" : ""))
        }
        return lines.joined(separator: "\n")
    }

    private func plural(_ count: Int, _ word: String) -> String {
        count == 1 ? word : word + "s"
    }
}
