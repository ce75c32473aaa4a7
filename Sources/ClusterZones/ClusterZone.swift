import DNSWire
import ServiceRegistry

/// The Kubernetes DNS-Based Service Discovery zone (spec v1.1.0) for one registry snapshot.
public struct ClusterZone: Zone {
    public let origin: DNSName
    let snapshot: RegistrySnapshot
    let configuration: ZoneConfiguration
    private let originLabelCount: Int
    let published: PublishedEndpointIndex

    public init(snapshot: RegistrySnapshot, configuration: ZoneConfiguration) {
        self.init(snapshot: snapshot, configuration: configuration, published: PublishedEndpointIndex(snapshot: snapshot))
    }

    init(snapshot: RegistrySnapshot, configuration: ZoneConfiguration, published: PublishedEndpointIndex) {
        self.snapshot = snapshot
        self.configuration = configuration
        self.published = published
        self.origin = configuration.domain
        self.originLabelCount = configuration.domain.labelCount
    }

    /// The SOA every negative answer carries, and that the apex answers.
    func soaRecord(owner: DNSName) -> ResourceRecord {
        configuration.soaRecord(owner: owner, serial: snapshot.serial)
    }

    /// Finds what `name` (inside the zone) refers to; nil when it does not exist.
    func resolve(_ name: DNSName) -> ClusterName? {
        let labels = name.lowercasedLabels(below: originLabelCount)
        guard let first = labels.first else { return .apex }
        switch first {
        case "svc":
            return resolveService(Array(labels.dropFirst()))
        case "pod":
            return resolvePod(Array(labels.dropFirst()))
        case "dns-version":
            return labels.count == 1 ? .dnsVersion : nil
        case "dns":
            if labels.count == 1 { return .emptyNonTerminal }
            return labels.count == 2 && labels[1] == "ns" ? .nameServer : nil
        default:
            return nil
        }
    }


    /// `labels` from the namespace down: [ns, service, endpoint-or-proto, port].
    private func resolveService(_ labels: [String]) -> ClusterName? {
        switch labels.count {
        case 0:
            return .emptyNonTerminal
        case 1:
            return snapshot.hasNamespace(labels[0]) ? .emptyNonTerminal : nil
        default:
            break
        }
        guard let service = snapshot.service(namespace: labels[0], name: labels[1]), hasName(service) else { return nil }
        switch labels.count {
        case 2:
            return .service(service)
        case 3:
            // `_tcp.<svc>...` exists when some named port uses that protocol; other labels are endpoints.
            if labels[2].hasPrefix("_") {
                guard service.type != .externalName else { return nil }
                let proto = labels[2].dropFirst()
                return service.ports.contains { !$0.name.isEmpty && $0.protocol.lowercased == proto } ? .emptyNonTerminal : nil
            }
            guard service.type != .externalName else { return nil }
            let addresses = published.endpoints(of: service).filter { $0.label == labels[2] }.map(\.address)
            return addresses.isEmpty ? nil : .endpoint(service, name: labels[2], addresses: addresses)
        case 4:
            guard service.type != .externalName, labels[2].hasPrefix("_"), labels[3].hasPrefix("_") else { return nil }
            let proto = labels[2].dropFirst()
            let portName = labels[3].dropFirst()
            let ports = service.ports.filter {
                !$0.name.isEmpty && $0.name.lowercased() == portName && $0.protocol.lowercased == proto
            }
            return ports.isEmpty ? nil : .servicePort(service, ports: ports)
        default:
            return nil
        }
    }

    /// Whether `service` has a name at all. The spec's one rcode rule: a headless service with no
    /// ready endpoints does not exist, and so nothing below it does either (RFC 8020).
    func hasName(_ service: Service) -> Bool {
        !(service.isHeadless && published.endpoints(of: service).isEmpty)
    }

    /// `labels` from the namespace down: [ns, dashed-ip].
    private func resolvePod(_ labels: [String]) -> ClusterName? {
        guard configuration.podMode != .disabled else { return nil }
        switch labels.count {
        case 0:
            return .emptyNonTerminal
        case 1:
            return snapshot.hasNamespace(labels[0]) ? .emptyNonTerminal : nil
        case 2:
            guard let address = IPAddress(dashed: labels[1]) else { return nil }
            if configuration.podMode == .verified {
                let namespace = labels[0]
                guard snapshot.hasPod(withIP: address, inNamespace: namespace) else { return nil }
            }
            return .pod(address)
        default:
            return nil
        }
    }

    /// The zone's answer to one question whose name lies inside it.
    public func answer(_ question: DNSQuestion) -> Answer {
        answer(question, chaseDepth: 0)
    }

    /// The answers to several types at one name, resolving the name once (compiling answers asks
    /// every name for each type it may own).
    public func answers(at name: DNSName, types: [RecordType]) -> [Answer] {
        answers(at: name, resolvedTo: resolve(name), types: types)
    }

    /// `answers(at:types:)` for a name known to resolve to `node`.
    func answers(at name: DNSName, resolvedTo node: ClusterName?, types: [RecordType]) -> [Answer] {
        types.map { answer(DNSQuestion(name: name, type: $0), at: node, chaseDepth: 0) }
    }

    private func answer(_ question: DNSQuestion, chaseDepth: Int) -> Answer {
        answer(question, at: resolve(question.name), chaseDepth: chaseDepth)
    }

    private func answer(_ question: DNSQuestion, at node: ClusterName?, chaseDepth: Int) -> Answer {
        let name = question.name
        guard let node else {
            return Answer(responseCode: .nameError, authority: [soaRecord(owner: origin)])
        }
        if case .service(let service) = node, service.type == .externalName {
            return externalNameAnswer(question, service: service, chaseDepth: chaseDepth)
        }
        let (answers, additional) = records(at: node, type: question.type, owner: name)
        if answers.isEmpty {
            return Answer(authority: [soaRecord(owner: origin)])
        }
        return Answer(answers: answers, additional: additional)
    }

    /// CNAME to the external name; when the target is inside this zone, its records follow.
    private func externalNameAnswer(_ question: DNSQuestion, service: Service, chaseDepth: Int) -> Answer {
        guard let externalName = service.externalName, let target = (try? DNSName(externalName))?.lowercased() else {
            return Answer(authority: [soaRecord(owner: origin)])
        }
        let cname = ResourceRecord(name: question.name, ttl: configuration.ttl, data: .cname(target))
        guard question.type != .cname, target.isSubdomain(of: origin), chaseDepth < 8 else {
            return Answer(answers: [cname])
        }
        var chased = answer(DNSQuestion(name: target, type: question.type, class: question.class), chaseDepth: chaseDepth + 1)
        chased.answers.insert(cname, at: 0)
        // A CNAME followed by the target's records is a positive answer: no SOA.
        if chased.answers.count > 1 { chased.authority = [] }
        return chased
    }

    /// Records of `type` at a resolved name, and the glue that goes with them.
    func records(at node: ClusterName, type: RecordType, owner: DNSName) -> (answers: [ResourceRecord], additional: [ResourceRecord]) {
        let ttl = configuration.ttl
        switch node {
        case .apex:
            switch type {
            case .soa:
                return ([soaRecord(owner: owner)], [])
            case .ns:
                let nameServer = configuration.nameServerName
                let glue = configuration.nameServerAddresses.map {
                    ResourceRecord(name: nameServer, ttl: ttl, data: RecordData(address: $0))
                }
                return ([ResourceRecord(name: owner, ttl: ttl, data: .ns(nameServer))], glue)
            default:
                return ([], [])
            }
        case .emptyNonTerminal:
            return ([], [])
        case .dnsVersion:
            guard type == .txt else { return ([], []) }
            let text = Array(ZoneConfiguration.schemaVersion.utf8)
            return ([ResourceRecord(name: owner, ttl: ZoneConfiguration.versionTTL, data: .txt([text]))], [])
        case .nameServer:
            return (addressRecords(configuration.nameServerAddresses, type: type, owner: owner), [])
        case .pod(let address):
            return (addressRecords([address], type: type, owner: owner), [])
        case .endpoint(_, _, let addresses):
            return (addressRecords(addresses, type: type, owner: owner), [])
        case .service(let service):
            return serviceRecords(service, type: type, owner: owner, portFilter: nil)
        case .servicePort(let service, let ports):
            guard type == .srv else { return ([], []) }
            return serviceRecords(service, type: type, owner: owner, portFilter: ports)
        }
    }

    private func addressRecords(_ addresses: [IPAddress], type: RecordType, owner: DNSName) -> [ResourceRecord] {
        guard type == .a || type == .aaaa else { return [] }
        var seen = Set<IPAddress>()
        return addresses.filter { $0.recordType == type && seen.insert($0).inserted }.map {
            ResourceRecord(name: owner, ttl: configuration.ttl, data: RecordData(address: $0))
        }
    }

    /// A/AAAA/SRV of a service name, or SRV of `_port._proto` when `portFilter` is given.
    private func serviceRecords(_ service: Service, type: RecordType, owner: DNSName, portFilter: [ServicePort]?) -> (answers: [ResourceRecord], additional: [ResourceRecord]) {
        if service.isHeadless {
            let endpoints = published.endpoints(of: service)
            switch type {
            case .a, .aaaa:
                return (addressRecords(endpoints.map(\.address), type: type, owner: owner), [])
            case .srv:
                var targets: [(target: DNSName, port: Int, address: IPAddress)] = []
                var seen = SRVTargetSet()
                for endpoint in endpoints {
                    let target = targetName(labels: [endpoint.label, service.name, service.namespace, "svc"])
                    for port in endpoint.ports where matches(port, portFilter) {
                        if seen.insert(SRVTarget(target: target, port: port.port, address: endpoint.address)) {
                            targets.append((target, port.port, endpoint.address))
                        }
                    }
                }
                return srvRecords(targets, owner: owner)
            default:
                return ([], [])
            }
        }
        switch type {
        case .a, .aaaa:
            return portFilter == nil ? (addressRecords(service.clusterIPs, type: type, owner: owner), []) : ([], [])
        case .srv:
            let serviceName = targetName(labels: [service.name, service.namespace, "svc"])
            let ports = portFilter ?? service.ports
            var targets: [(target: DNSName, port: Int, address: IPAddress)] = []
            for port in ports {
                for address in service.clusterIPs {
                    targets.append((serviceName, port.port, address))
                }
            }
            return srvRecords(targets, owner: owner)
        default:
            return ([], [])
        }
    }

    /// One SRV per distinct (target, port), weights shared evenly, one glue record per (target, address).
    private func srvRecords(_ targets: [(target: DNSName, port: Int, address: IPAddress)], owner: DNSName) -> (answers: [ResourceRecord], additional: [ResourceRecord]) {
        let ttl = configuration.ttl
        var answers: [ResourceRecord] = []
        var glue: [ResourceRecord] = []
        var seenSRV = SRVTargetSet()
        var seenGlue = SRVTargetSet()
        var unique: [(DNSName, Int)] = []
        for entry in targets where seenSRV.insert(SRVTarget(target: entry.target, port: entry.port, address: nil)) {
            unique.append((entry.target, entry.port))
        }
        let weight = srvWeight(count: unique.count)
        for (target, port) in unique {
            answers.append(ResourceRecord(name: owner, ttl: ttl, data: .srv(priority: 0, weight: weight, port: UInt16(clamping: port), target: target)))
        }
        for entry in targets where seenGlue.insert(SRVTarget(target: entry.target, port: 0, address: entry.address)) {
            glue.append(ResourceRecord(name: entry.target, ttl: ttl, data: RecordData(address: entry.address)))
        }
        return (answers, glue)
    }

    /// Named ports match `_name._proto`; the bare service name takes every port.
    private func matches(_ port: EndpointPort, _ filter: [ServicePort]?) -> Bool {
        guard let filter else { return true }
        return filter.contains { $0.name.lowercased() == port.name.lowercased() && $0.protocol == port.protocol }
    }

    /// `labels` + the zone, in lower case like every name the zone writes.
    private func targetName(labels: [String]) -> DNSName {
        (try? origin.prepending(labels: labels.map { $0.lowercased() })) ?? origin
    }
}

/// Identity of an SRV target (and its port or glue address) for de-duplication.
private struct SRVTarget: Hashable {
    var target: DNSName
    var port: Int
    var address: IPAddress?
}

/// SRV targets seen so far: searched in a list while few (a Service has a port or two, so most
/// answers have one or two targets), in a hash set beyond, where hashing every name would cost
/// more than comparing a few.
private struct SRVTargetSet {
    private var few: [SRVTarget] = []
    private var many: Set<SRVTarget>?

    /// Adds `target`; false when an equal one was there.
    mutating func insert(_ target: SRVTarget) -> Bool {
        if many != nil { return many!.insert(target).inserted }
        guard !few.contains(target) else { return false }
        few.append(target)
        if few.count > 8 {
            many = Set(few)
            few = []
        }
        return true
    }
}

extension DNSName {
    /// The labels below a zone whose origin has `originLabelCount` labels, from the zone down
    /// (["svc", ns, service, ...] in the cluster zone), in lower case: each read from the wire
    /// straight into its string (`lowercasedLabelStrings` made every label through a generic lazy
    /// view, at a dynamic cast each).
    func lowercasedLabels(below originLabelCount: Int) -> [String] {
        let count = labelCount - originLabelCount
        guard count > 0 else { return [] }
        var labels: [String] = []
        labels.reserveCapacity(count)
        wire.withUnsafeBufferPointer { bytes in
            var index = 0
            for _ in 0..<count {
                let length = Int(bytes[index])
                labels.append(String(unsafeUninitializedCapacity: length) { label in
                    for offset in 0..<length { label[offset] = DNSName.asciiLowercased(bytes[index + 1 + offset]) }
                    return length
                })
                index += 1 + length
            }
        }
        labels.reverse()
        return labels
    }
}
