/// A CIDR block such as `10.96.0.0/12` or `fd00:10:96::/112`: the service range ClusterIPs are
/// allocated from, and the test for whether an address belongs to it.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The network address, with every host bit cleared.
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `address/prefix`; host bits in the address are cleared (`10.96.0.1/12` is `10.96.0.0/12`).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(parts[0]),
              parts[1].allSatisfy(\.isASCII), let prefixLength = Int(parts[1]) else { return nil }
        self.init(address: address, prefixLength: prefixLength)
    }

    /// Builds a network from an address and a prefix length; nil when the prefix does not fit the family.
    public init?(address: IPAddress, prefixLength: Int) {
        let bits = address.isIPv4 ? 32 : 128
        guard (0...bits).contains(prefixLength) else { return nil }
        self.prefixLength = prefixLength
        self.address = address.masked(toPrefixLength: prefixLength)
    }

    public var isIPv4: Bool { address.isIPv4 }

    /// How many bits of an address are free for hosts (20 for a /12).
    public var hostBits: Int { (isIPv4 ? 32 : 128) - prefixLength }

    public func contains(_ ip: IPAddress) -> Bool {
        ip.isIPv4 == isIPv4 && ip.masked(toPrefixLength: prefixLength) == address
    }

    /// The address `offset` places after the network address (offset 1 of `10.96.0.0/12` is `10.96.0.1`).
    /// The caller keeps the offset below the network's size.
    func address(atOffset offset: UInt64) -> IPAddress {
        switch address {
        case .v4(let base):
            return .v4(base &+ UInt32(truncatingIfNeeded: offset))
        case .v6(let high, let low):
            let (sum, overflow) = low.addingReportingOverflow(offset)
            return .v6(high: overflow ? high &+ 1 : high, low: sum)
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

extension IPAddress {
    /// The address with every bit after the first `prefixLength` cleared.
    func masked(toPrefixLength prefixLength: Int) -> IPAddress {
        switch self {
        case .v4(let value):
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - min(prefixLength, 32))
            return .v4(value & mask)
        case .v6(let high, let low):
            let highBits = min(max(prefixLength, 0), 64)
            let lowBits = min(max(prefixLength - 64, 0), 64)
            let highMask: UInt64 = highBits == 0 ? 0 : ~UInt64(0) << UInt64(64 - highBits)
            let lowMask: UInt64 = lowBits == 0 ? 0 : ~UInt64(0) << UInt64(64 - lowBits)
            return .v6(high: high & highMask, low: low & lowMask)
        }
    }
}
