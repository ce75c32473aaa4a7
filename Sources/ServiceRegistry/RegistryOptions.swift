/// Settings that change how manifests become a snapshot, shared by every source.
public struct RegistryOptions: Sendable {
    /// The service ranges ClusterIPs are allocated from: the first IPv4 one for single-stack
    /// services, plus the first IPv6 one for dual-stack services (IPv6 alone if no IPv4 is given).
    public var serviceCIDRs: [IPNetwork]
    /// Whether snapshots index Pods by address, which only pod names in `verified` mode and
    /// autopath read (`RegistrySnapshot.hasPod(withIP:inNamespace:)`, `pods(withIP:)`). A server
    /// with neither leaves the index out: at a million Pods it is some 50 MB.
    public var indexesPodsByAddress: Bool

    public init(serviceCIDRs: [IPNetwork] = [IPNetwork("10.96.0.0/12")!], indexesPodsByAddress: Bool = true) {
        self.serviceCIDRs = serviceCIDRs
        self.indexesPodsByAddress = indexesPodsByAddress
    }

    /// The first configured range of one family, the one allocation draws from.
    public func serviceCIDR(ipv4: Bool) -> IPNetwork? {
        serviceCIDRs.first { $0.isIPv4 == ipv4 }
    }
}
