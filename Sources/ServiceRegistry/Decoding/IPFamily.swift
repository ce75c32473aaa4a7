/// An address family, as `spec.ipFamilies` names it; ClusterIP allocation works per family.
enum IPFamily: String, Hashable, Sendable {
    case ipv4 = "IPv4"
    case ipv6 = "IPv6"

    init(of address: IPAddress) {
        self = address.isIPv4 ? .ipv4 : .ipv6
    }

    var other: IPFamily { self == .ipv4 ? .ipv6 : .ipv4 }
}
