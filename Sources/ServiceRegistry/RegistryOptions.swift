/// Settings that change how manifests become a snapshot, shared by every source.
public struct RegistryOptions: Sendable {
    /// The service ranges ClusterIPs are allocated from: the first IPv4 one for single-stack
    /// services, plus the first IPv6 one for dual-stack services (IPv6 alone if no IPv4 is given).
    public var serviceCIDRs: [IPNetwork]

    public init(serviceCIDRs: [IPNetwork] = [IPNetwork("10.96.0.0/12")!]) {
        self.serviceCIDRs = serviceCIDRs
    }

    /// The first configured range of one family, the one allocation draws from.
    public func serviceCIDR(ipv4: Bool) -> IPNetwork? {
        serviceCIDRs.first { $0.isIPv4 == ipv4 }
    }
}
