import DNSWire
import HashTreeCollections
import ServiceRegistry

/// PTR records in `in-addr.arpa` and `ip6.arpa` for ClusterIPs and published endpoint IPs.
///
/// We answer for the whole reverse trees, as CoreDNS does with `in-addr.arpa ip6.arpa` in its
/// kubernetes block; unknown addresses are NXDOMAIN until forwarding exists.
public struct ReverseZone: Zone {
    public let origin: DNSName
    private let family: Family
    let index: ReverseIndex
    private let configuration: ZoneConfiguration
    private let serial: UInt32

    enum Family { case v4, v6 }

    static func zones(index: ReverseIndex, configuration: ZoneConfiguration, serial: UInt32) -> [ReverseZone] {
        [
            ReverseZone(origin: try! DNSName("in-addr.arpa"), family: .v4, index: index, configuration: configuration, serial: serial),
            ReverseZone(origin: try! DNSName("ip6.arpa"), family: .v6, index: index, configuration: configuration, serial: serial),
        ]
    }

    private init(origin: DNSName, family: Family, index: ReverseIndex, configuration: ZoneConfiguration, serial: UInt32) {
        self.origin = origin
        self.family = family
        self.index = index
        self.configuration = configuration
        self.serial = serial
    }

    /// The addresses this zone answers PTR for, in order (for exports and full compiles).
    var sortedAddresses: [IPAddress] {
        index.targets.keys.filter { family == .v4 ? $0.isIPv4 : $0.isIPv6 }.sorted()
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
            guard let targets = index.names(at: address) else {
                return Answer(responseCode: .nameError, authority: [soaRecord(owner: owner)])
            }
            guard question.type == .ptr else { return Answer(authority: [soaRecord(owner: owner)]) }
            return Answer(answers: targets.map { ResourceRecord(name: question.name, ttl: configuration.ttl, data: .ptr($0)) })
        }
        return Answer(responseCode: hasAddress(startingWith: parts) ? .noError : .nameError, authority: [soaRecord(owner: owner)])
    }

    /// Whether a known address starts with `parts` (bytes for IPv4, nibbles for IPv6).
    private func hasAddress(startingWith parts: [UInt8]) -> Bool {
        index.hasPrefix(parts, ipv4: family == .v4)
    }
}

/// Address → PTR targets, for both families: the Service name for a ClusterIP, and
/// `<endpoint>.<svc>.<ns>.svc.<zone>` once per Service that publishes an endpoint IP; and how many
/// addresses lie below each partial reverse name, so that an empty non-terminal such as
/// `96.10.in-addr.arpa` is known without a scan. Patched per Service.
struct ReverseIndex: Sendable {
    private(set) var targets: TreeDictionary<IPAddress, [PTRTarget]> = [:]
    /// Family marker (4 or 6) + leading bytes (IPv4) or nibbles (IPv6) → addresses below.
    private var prefixes: TreeDictionary<[UInt8], Int> = [:]
    let domain: DNSName

    /// One reason an address has a PTR record. Ordered: ClusterIPs first, then endpoints, each by
    /// Service and label, so that a patched index lists targets as a fresh one does.
    struct PTRTarget: Hashable, Sendable, Comparable {
        var rank: UInt8
        var service: ObjectKey
        var label: String
        var name: DNSName

        static func < (lhs: PTRTarget, rhs: PTRTarget) -> Bool {
            (lhs.rank, lhs.service, lhs.label) < (rhs.rank, rhs.service, rhs.label)
        }
    }

    init(domain: DNSName) {
        self.domain = domain
    }

    init(snapshot: RegistrySnapshot, domain: DNSName, published: PublishedEndpointIndex) {
        self.domain = domain
        for service in snapshot.servicesInAnyOrder {
            add(contributions(of: service, endpoints: published.endpoints(of: service)))
        }
    }

    /// The PTR targets at `address`, each name once; nil when the address has none.
    func names(at address: IPAddress) -> [DNSName]? {
        guard let list = targets[address] else { return nil }
        var seen = Set<DNSName>()
        return list.map(\.name).filter { seen.insert($0).inserted }
    }

    func hasPrefix(_ parts: [UInt8], ipv4: Bool) -> Bool {
        prefixes[[ipv4 ? 4 : 6] + parts] != nil
    }

    /// What one Service puts in the reverse zones.
    func contributions(of service: Service, endpoints: [NamedEndpoint]) -> [(IPAddress, PTRTarget)] {
        guard service.type != .externalName else { return [] }
        let key = ObjectKey(namespace: service.namespace, name: service.name)
        var result: [(IPAddress, PTRTarget)] = []
        if service.ownsClusterIPs, let name = try? domain.prepending(labels: [service.name, service.namespace, "svc"].map { $0.lowercased() }) {
            for address in service.clusterIPs { result.append((address, PTRTarget(rank: 0, service: key, label: "", name: name))) }
        }
        for endpoint in endpoints {
            guard let name = try? domain.prepending(labels: [endpoint.label, service.name, service.namespace, "svc"].map { $0.lowercased() }) else { continue }
            result.append((endpoint.address, PTRTarget(rank: 1, service: key, label: endpoint.label, name: name)))
        }
        return result
    }

    mutating func add(_ contributions: [(IPAddress, PTRTarget)]) {
        for (address, target) in contributions {
            var list = targets[address] ?? []
            if list.isEmpty { count(address, by: 1) }
            list.insert(target, at: list.firstIndex { target < $0 } ?? list.endIndex)
            targets[address] = list
        }
    }

    mutating func remove(_ contributions: [(IPAddress, PTRTarget)]) {
        for (address, target) in contributions {
            guard var list = targets[address], let position = list.firstIndex(of: target) else { continue }
            list.remove(at: position)
            targets[address] = list.isEmpty ? nil : list
            if list.isEmpty { count(address, by: -1) }
        }
    }

    private mutating func count(_ address: IPAddress, by delta: Int) {
        let parts = address.isIPv4 ? address.bytes : address.bytes.flatMap { [$0 >> 4, $0 & 0x0f] }
        let marker: UInt8 = address.isIPv4 ? 4 : 6
        for length in 1..<parts.count {
            let key = [marker] + parts[..<length]
            let value = (prefixes[key] ?? 0) + delta
            prefixes[key] = value > 0 ? value : nil
        }
    }
}
