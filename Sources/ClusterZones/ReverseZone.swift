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
            ReverseZone(origin: origins[0], family: .v4, index: index, configuration: configuration, serial: serial),
            ReverseZone(origin: origins[1], family: .v6, index: index, configuration: configuration, serial: serial),
        ]
    }

    /// The reverse zones' apexes: IPv4's, then IPv6's.
    public static let origins = [try! DNSName("in-addr.arpa"), try! DNSName("ip6.arpa")]

    private init(origin: DNSName, family: Family, index: ReverseIndex, configuration: ZoneConfiguration, serial: UInt32) {
        self.origin = origin
        self.family = family
        self.index = index
        self.configuration = configuration
        self.serial = serial
    }

    /// The addresses this zone answers PTR for.
    var addressesInAnyOrder: [IPAddress] {
        index.targets.addresses(ipv4: family == .v4)
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
            return answer(question, address: address(fromParts: parts))
        }
        return Answer(responseCode: hasAddress(startingWith: parts) ? .noError : .nameError, authority: [soaRecord(owner: owner)])
    }

    /// Whether `address` is of this zone's family.
    func holds(_ address: IPAddress) -> Bool {
        address.isIPv4 == (family == .v4)
    }

    /// The answer to a question at the reverse name of `address` (one this zone holds).
    func answer(_ question: DNSQuestion, address: IPAddress) -> Answer {
        guard question.type == .ptr, let targets = index.names(at: address) else {
            let exists = index.targets[address] != nil
            return Answer(responseCode: exists ? .noError : .nameError, authority: [soaRecord(owner: origin)])
        }
        return Answer(answers: targets.map { ResourceRecord(name: question.name, ttl: configuration.ttl, data: .ptr($0)) })
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
///
/// Compact, for it holds an entry per ClusterIP and endpoint address: a target is the Service's key
/// and the endpoint's label (strings shared with the registry and the endpoint index, or small
/// enough to be held inline), its name is made only when asked, an address's first target is held
/// in the table itself, an IPv4 address is its 32 bits, and a partial name is counted under an
/// integer key.
struct ReverseIndex: Sendable {
    private(set) var targets = AddressTable<PTRTargets>()
    /// What lies below each partial reverse name: for the longest prefix, the addresses held; for
    /// a shorter one, the prefixes one longer held. A name exists while its count is above 0.
    private var prefixes: TreeDictionary<AddressPrefix, Int> = [:]
    let domain: DNSName

    /// One reason an address has a PTR record. Ordered: ClusterIPs first, then endpoints, each by
    /// Service and label, so that a patched index lists targets as a fresh one does.
    struct PTRTarget: Hashable, Sendable, Comparable {
        /// The Service's key, held once for all its targets: a key inline is 32 bytes of each of a
        /// million endpoint addresses (the entry 64 → 40 bytes; 1M endpoints' resident size 29 MiB lower).
        private let holder: ServiceKeyHolder
        /// The endpoint's label (lower case); nil for the Service's own ClusterIP.
        let label: String?

        var service: ServiceKey { holder.key }

        init(service holder: ServiceKeyHolder, label: String?) {
            self.holder = holder
            self.label = label
        }

        static func == (lhs: PTRTarget, rhs: PTRTarget) -> Bool {
            lhs.label == rhs.label && (lhs.holder === rhs.holder || lhs.holder.key == rhs.holder.key)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(service)
            hasher.combine(label)
        }

        static func < (lhs: PTRTarget, rhs: PTRTarget) -> Bool {
            (lhs.rank, lhs.service, lhs.label ?? "") < (rhs.rank, rhs.service, rhs.label ?? "")
        }

        private var rank: UInt8 { label == nil ? 0 : 1 }

        /// `[<label>.]<svc>.<ns>.svc.<domain>`.
        func name(in domain: DNSName) -> DNSName? {
            let labels = [service.name, service.namespace, "svc"]
            return try? domain.prepending(labels: label.map { [$0] + labels } ?? labels)
        }
    }

    /// The targets of one address in order, the first held inline: most addresses have one, and
    /// an array each would cost an allocation per address.
    struct PTRTargets: Sendable {
        private(set) var first: PTRTarget
        private(set) var rest: [PTRTarget] = []

        init(_ target: PTRTarget) { first = target }

        mutating func insert(_ target: PTRTarget) {
            if target < first {
                rest.insert(first, at: 0)
                first = target
            } else {
                rest.insert(target, at: rest.firstIndex { target < $0 } ?? rest.endIndex)
            }
        }

        /// Removes one target equal to `target`, if any, from more than one (the caller drops an
        /// address whose only target goes).
        mutating func remove(_ target: PTRTarget) {
            if first == target {
                first = rest.removeFirst()
            } else if let position = rest.firstIndex(of: target) {
                rest.remove(at: position)
            }
        }
    }

    /// A Service's key, shared by the PTR targets of its ClusterIPs and endpoints.
    final class ServiceKeyHolder: Sendable {
        let key: ServiceKey

        init(_ key: ServiceKey) { self.key = key }
    }

    /// The first `length` bytes (IPv4) or nibbles (IPv6) of an address, the rest zeroed.
    struct AddressPrefix: Hashable, Sendable {
        var address: IPAddress
        var length: UInt8

        init(_ address: IPAddress, length: Int) {
            switch address {
            case .v4(let value):
                self.address = .v4(value & ~(UInt32.max >> (8 * length)))
            case .v6(let high, let low):
                let bits = 4 * length
                self.address = bits < 64
                    ? .v6(high: high & ~(UInt64.max >> bits), low: 0)
                    : .v6(high: high, low: low & ~(UInt64.max >> (bits - 64)))
            }
            self.length = UInt8(length)
        }

        /// From the leading bytes (IPv4) or nibbles (IPv6) of a reverse name.
        init(parts: [UInt8], ipv4: Bool) {
            if ipv4 {
                var value: UInt32 = 0
                for (index, part) in parts.enumerated() { value |= UInt32(part) << (24 - 8 * index) }
                self.init(.v4(value), length: parts.count)
            } else {
                var high: UInt64 = 0
                var low: UInt64 = 0
                for (index, part) in parts.enumerated() {
                    if index < 16 { high |= UInt64(part) << (60 - 4 * index) } else { low |= UInt64(part) << (60 - 4 * (index - 16)) }
                }
                self.init(.v6(high: high, low: low), length: parts.count)
            }
        }
    }

    init(domain: DNSName) {
        self.domain = domain
    }

    /// An index built whole (a catalog's first): the IPv4 contributions gathered as they come, then
    /// sorted by address and laid out in one pass, each prefix of 24 bits counted once for all its
    /// addresses. Added one by one, each address searched and shifted a run and looked its prefix
    /// up: 3–4 % of a 50k-Service load's samples, 2 % after.
    struct Builder {
        private var index: ReverseIndex
        private var v4: [(address: UInt32, target: PTRTarget)] = []

        init(domain: DNSName) {
            index = ReverseIndex(domain: domain)
        }

        mutating func add(_ contributions: [(IPAddress, PTRTarget)]) {
            for (address, target) in contributions {
                if case .v4(let bits) = address { v4.append((bits, target)) } else { index.add([(address, target)]) }
            }
        }

        mutating func finish() -> ReverseIndex {
            // By address alone: `PTRTargets.insert` puts an address's targets in their order.
            v4.sort { $0.address < $1.address }
            var table = SortedRuns<UInt32, PTRTargets>.Builder()
            var start = 0
            var prefixStart = 0
            while start < v4.count {
                let address = v4[start].address
                var held = PTRTargets(v4[start].target)
                var end = start + 1
                while end < v4.count && v4[end].address == address {
                    held.insert(v4[end].target)
                    end += 1
                }
                table.append(address, held)
                // The addresses of a prefix counted at its last.
                if end == v4.count || v4[end].address & 0xFFFF_FF00 != address & 0xFFFF_FF00 {
                    index.count(.v4(address), by: table.count - prefixStart)
                    prefixStart = table.count
                }
                start = end
            }
            v4 = []
            var index = self.index
            index.targets.fillIPv4(table.finish())
            return index
        }
    }

    /// The PTR targets at `address`, each name once; nil when the address has none.
    func names(at address: IPAddress) -> [DNSName]? {
        guard let held = targets[address] else { return nil }
        // Equal targets (one endpoint in two groups) lie next to each other in the order.
        var result: [DNSName] = []
        if let name = held.first.name(in: domain) { result.append(name) }
        var previous = held.first
        for target in held.rest where target != previous {
            previous = target
            if let name = target.name(in: domain) { result.append(name) }
        }
        return result
    }

    func hasPrefix(_ parts: [UInt8], ipv4: Bool) -> Bool {
        prefixes[AddressPrefix(parts: parts, ipv4: ipv4)] != nil
    }

    /// What one Service (whose key is `key`) puts in the reverse zones.
    static func contributions(of service: Service, key: ServiceKey, endpoints: [NamedEndpoint]) -> [(IPAddress, PTRTarget)] {
        guard service.type != .externalName else { return [] }
        var result: [(IPAddress, PTRTarget)] = []
        let holder = ServiceKeyHolder(key)
        if service.ownsClusterIPs {
            result.reserveCapacity(service.clusterIPs.count + endpoints.count)
            for address in service.clusterIPs { result.append((address, PTRTarget(service: holder, label: nil))) }
        }
        for endpoint in endpoints {
            result.append((endpoint.address, PTRTarget(service: holder, label: endpoint.label)))
        }
        return result
    }

    mutating func add(_ contributions: [(IPAddress, PTRTarget)]) {
        for (address, target) in contributions {
            let isNew = targets.updateValue(forKey: address) { held in
                guard held != nil else {
                    held = PTRTargets(target)
                    return true
                }
                held!.insert(target)
                return false
            }
            if isNew { count(address, by: 1) }
        }
    }

    mutating func remove(_ contributions: [(IPAddress, PTRTarget)]) {
        for (address, target) in contributions {
            guard let held = targets[address] else { continue }
            if held.rest.isEmpty {
                guard held.first == target else { continue }
                targets[address] = nil
                count(address, by: -1)
            } else {
                targets.updateValue(forKey: address) { $0!.remove(target) }
            }
        }
    }

    /// Counts addresses under one longest prefix in (`delta` above 0) or out, longest prefix first: a shorter prefix changes
    /// only when one below it comes or goes, so most addresses touch one prefix, not 3 (IPv4) or 31
    /// (IPv6). A catalog counts some 100k addresses.
    fileprivate mutating func count(_ address: IPAddress, by delta: Int) {
        var delta = delta
        for length in stride(from: address.isIPv4 ? 3 : 31, through: 1, by: -1) {
            // One lookup a prefix, not a read and a write.
            let cameOrWent = prefixes.updateValue(forKey: AddressPrefix(address, length: length)) { held in
                let before = held ?? 0
                let value = before + delta
                held = value > 0 ? value : nil
                return (before > 0) != (value > 0)
            }
            guard cameOrWent else { return }
            // One prefix came or went, however many addresses: the shorter one counts it once.
            delta = delta > 0 ? 1 : -1
        }
    }
}
