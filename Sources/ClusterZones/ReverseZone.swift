import DNSWire
import ServiceRegistry

/// PTR records in `in-addr.arpa` and `ip6.arpa` for ClusterIPs and published endpoint IPs.
///
/// We answer for the whole reverse trees, as CoreDNS does with `in-addr.arpa ip6.arpa` in its
/// kubernetes block; unknown addresses are NXDOMAIN until forwarding exists.
public struct ReverseZone: Zone {
    public let origin: DNSName
    private let family: Family
    private let targetsByAddress: [IPAddress: [DNSName]]
    /// The same addresses in order, so a partial reverse name (an empty non-terminal such as
    /// `96.10.in-addr.arpa`) is found by binary search rather than a scan of every address.
    let sortedAddresses: [IPAddress]
    private let configuration: ZoneConfiguration
    private let serial: UInt32

    enum Family { case v4, v6 }

    public static func zones(snapshot: RegistrySnapshot, configuration: ZoneConfiguration) -> [ReverseZone] {
        zones(snapshot: snapshot, configuration: configuration, published: PublishedEndpointIndex(snapshot: snapshot))
    }

    static func zones(snapshot: RegistrySnapshot, configuration: ZoneConfiguration, published: PublishedEndpointIndex) -> [ReverseZone] {
        let targets = ptrTargets(snapshot: snapshot, domain: configuration.domain, published: published)
        return [
            ReverseZone(origin: try! DNSName("in-addr.arpa"), family: .v4, targets: targets, configuration: configuration, serial: snapshot.serial),
            ReverseZone(origin: try! DNSName("ip6.arpa"), family: .v6, targets: targets, configuration: configuration, serial: snapshot.serial),
        ]
    }

    private init(origin: DNSName, family: Family, targets: [IPAddress: [DNSName]], configuration: ZoneConfiguration, serial: UInt32) {
        self.origin = origin
        self.family = family
        self.targetsByAddress = targets.filter { family == .v4 ? $0.key.isIPv4 : $0.key.isIPv6 }
        self.sortedAddresses = targetsByAddress.keys.sorted()
        self.configuration = configuration
        self.serial = serial
    }

    /// Address → PTR targets: the Service name for a ClusterIP, and
    /// `<endpoint>.<svc>.<ns>.svc.<zone>` once per Service that publishes an endpoint IP.
    static func ptrTargets(snapshot: RegistrySnapshot, domain: DNSName, published: PublishedEndpointIndex) -> [IPAddress: [DNSName]] {
        var targets: [IPAddress: [DNSName]] = [:]
        func add(_ address: IPAddress, _ labels: [String]) {
            guard let name = try? domain.prepending(labels: labels.map { $0.lowercased() }) else { return }
            if !(targets[address]?.contains(name) ?? false) { targets[address, default: []].append(name) }
        }
        for service in snapshot.services where !service.isHeadless && service.type != .externalName {
            for address in service.clusterIPs { add(address, [service.name, service.namespace, "svc"]) }
        }
        for service in snapshot.services where service.type != .externalName {
            for endpoint in published.endpoints(of: service) {
                add(endpoint.address, [endpoint.label, service.name, service.namespace, "svc"])
            }
        }
        return targets
    }

    private func soaRecord(owner: DNSName) -> ResourceRecord {
        configuration.soaRecord(owner: owner, serial: serial)
    }

    /// Parses the address labels below the origin (bytes for IPv4, nibbles for IPv6, most
    /// significant first); nil for a name that is not (a prefix of) an address. Reads the wire
    /// bytes: this runs for every reverse question the compiled answers do not hold.
    private func addressNibbles(_ name: DNSName) -> [UInt8]? {
        let count = name.labelCount - origin.labelCount
        guard count >= 0, count <= (family == .v4 ? 4 : 32) else { return nil }
        let wire = name.wire
        var parts = [UInt8](repeating: 0, count: count)
        var index = 0
        for position in stride(from: count - 1, through: 0, by: -1) {
            let length = Int(wire[index])
            let label = wire[(index + 1)...(index + length)]
            switch family {
            case .v4:
                // Decimal 0-255 without leading zeros, as an address is written.
                guard (1...3).contains(length), label.allSatisfy({ (0x30...0x39).contains($0) }),
                    length == 1 || label.first != 0x30
                else { return nil }
                let value = label.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                guard value <= 255 else { return nil }
                parts[position] = UInt8(value)
            case .v6:
                guard length == 1, let value = Self.hexValue(label.first!) else { return nil }
                parts[position] = value
            }
            index += 1 + length
        }
        return parts
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x61 + 10
        case 0x41...0x46: return byte - 0x41 + 10
        default: return nil
        }
    }

    /// The address whose bytes (IPv4) or nibbles (IPv6) are `parts`, all of them.
    private func address(fromParts parts: [UInt8]) -> IPAddress {
        switch family {
        case .v4: return IPAddress(bytes: parts)!
        case .v6: return IPAddress(bytes: stride(from: 0, to: 32, by: 2).map { parts[$0] << 4 | parts[$0 + 1] })!
        }
    }

    private func nibbles(of address: IPAddress) -> [UInt8] {
        switch family {
        case .v4: return address.bytes
        case .v6: return address.bytes.flatMap { [$0 >> 4, $0 & 0x0f] }
        }
    }

    public func answer(_ question: DNSQuestion) -> Answer {
        let owner = origin
        guard let parts = addressNibbles(question.name) else {
            return Answer(responseCode: .nameError, authority: [soaRecord(owner: owner)])
        }
        let complete = parts.count == (family == .v4 ? 4 : 32)
        if parts.isEmpty {
            switch question.type {
            case .soa: return Answer(answers: [soaRecord(owner: question.name)])
            case .ns:
                return Answer(answers: [ResourceRecord(name: question.name, ttl: configuration.ttl, data: .ns(configuration.nameServerName))])
            default: return Answer(authority: [soaRecord(owner: owner)])
            }
        }
        if complete {
            let address = address(fromParts: parts)
            guard let targets = targetsByAddress[address] else {
                return Answer(responseCode: .nameError, authority: [soaRecord(owner: owner)])
            }
            guard question.type == .ptr else { return Answer(authority: [soaRecord(owner: owner)]) }
            return Answer(answers: targets.map { ResourceRecord(name: question.name, ttl: configuration.ttl, data: .ptr($0)) })
        }
        return Answer(responseCode: hasAddress(startingWith: parts) ? .noError : .nameError, authority: [soaRecord(owner: owner)])
    }

    /// Whether a known address starts with `parts` (bytes for IPv4, nibbles for IPv6): the first
    /// address not below the prefix padded with zeros is the only one to check.
    private func hasAddress(startingWith parts: [UInt8]) -> Bool {
        let width = family == .v4 ? 4 : 32
        let padded = parts + Array(repeating: 0, count: width - parts.count)
        let lowest = address(fromParts: padded)
        var low = 0
        var high = sortedAddresses.count
        while low < high {
            let middle = (low + high) / 2
            if sortedAddresses[middle] < lowest { low = middle + 1 } else { high = middle }
        }
        return low < sortedAddresses.count && nibbles(of: sortedAddresses[low]).starts(with: parts)
    }
}
