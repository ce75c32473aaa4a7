import DNSWire
import ServiceRegistry

/// Server-side search (`serve --autopath`): a pod with `ndots:5` asks `<name>.<its ns>.svc.<zone>`
/// first for every name it resolves, then walks its search path on NXDOMAIN. When the client's
/// namespace is known, the walk is done here and the first expansion that exists is answered as a
/// CNAME from the asked name, in one round trip.
extension Catalog {
    /// The namespace of the client at `address`, from what the registry holds now: its Pods that
    /// have not ended (a Succeeded or Failed Pod's address may already be another's) and the
    /// endpoints at that address. Nil when none is known, or when they disagree (an address reused
    /// across namespaces): then nothing is guessed. Unlike CoreDNS's autopath this needs no Pods
    /// at all for clients that are endpoints of a Service.
    public func clientNamespace(of address: IPAddress) -> String? {
        var found: String?
        for pod in snapshot.pods(withIP: address) where pod.phase != "Succeeded" && pod.phase != "Failed" {
            let namespace = ObjectKey.folded(pod.namespace)
            guard found == nil || found == namespace else { return nil }
            found = namespace
        }
        if let held = reverseIndex.targets[address] {
            for target in [held.first] + held.rest where target.label != nil {
                guard found == nil || found == target.service.namespace else { return nil }
                found = target.service.namespace
            }
        }
        return found
    }

    /// The search-path expansions after the first, in a pod's order, when `name` (lower case) is
    /// the first expansion for a client in `namespace`: `<base>.<namespace>.svc.<zone>` gives
    /// `<base>.svc.<zone>`, `<base>.<zone>` and, last, `<base>` itself (outside the cluster zone).
    /// Nil for any other name.
    public func searchPath(after name: DNSName, clientNamespace namespace: String) -> [DNSName]? {
        let zone = configuration.domain
        let suffixLabels = zone.labelCount + 2
        guard name.labelCount > suffixLabels, name.isSubdomain(of: zone) else { return nil }
        let labels = name.labels
        let baseCount = labels.count - suffixLabels
        guard String(decoding: labels[baseCount + 1], as: UTF8.self) == "svc",
            String(decoding: labels[baseCount], as: UTF8.self) == namespace
        else { return nil }
        let base = labels[..<baseCount]
        guard let svc = try? zone.prepending("svc"),
            let underSvc = try? DNSName(labels: base + svc.labels),
            let underZone = try? DNSName(labels: base + zone.labels),
            let bare = try? DNSName(labels: Array(base))
        else { return nil }
        return [underSvc, underZone, bare]
    }
}
