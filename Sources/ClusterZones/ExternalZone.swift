import DNSWire
import ServiceRegistry

/// A public-facing zone of the Services reachable from outside the cluster, as CoreDNS's
/// `k8s_external`: `<svc>.<ns>.<zone>` answers a Service's `spec.externalIPs` and the IPs of its
/// `status.loadBalancer.ingress` (a Service whose ingress has only host names answers a CNAME to the
/// first), `_<port>._<proto>.<svc>.<ns>.<zone>` and `<svc>.<ns>.<zone>` answer SRV. A Service without
/// an external address (ClusterIP only, headless, ExternalName) has no name here. The apex has its
/// own SOA and NS (`ns1.dns.<zone>`, answering the server's addresses), as CoreDNS's default `apex`.
public struct ExternalZone: Zone {
    public let origin: DNSName
    let snapshot: RegistrySnapshot
    let configuration: ZoneConfiguration
    let index: ExternalServiceIndex
    /// `ns1.dns.<zone>`: the SOA MNAME and the apex NS target.
    let nameServerName: DNSName
    private let hostmasterName: DNSName

    init(origin: DNSName, snapshot: RegistrySnapshot, configuration: ZoneConfiguration, index: ExternalServiceIndex) {
        self.origin = origin
        self.snapshot = snapshot
        self.configuration = configuration
        self.index = index
        nameServerName = (try? origin.prepending(labels: ["ns1", "dns"])) ?? origin
        hostmasterName = (try? origin.prepending(labels: ["hostmaster", "dns"])) ?? origin
    }

    /// What a name of the zone refers to.
    private enum Node {
        case apex
        case emptyNonTerminal
        case nameServer
        case service(Service)
        case servicePort(Service, ports: [ServicePort])
    }

    public func answer(_ question: DNSQuestion) -> Answer {
        guard let node = resolve(question.name) else {
            return Answer(responseCode: .nameError, authority: [soaRecord()])
        }
        let records = self.records(at: node, type: question.type, owner: question.name)
        guard !records.answers.isEmpty else { return Answer(authority: [soaRecord()]) }
        return Answer(answers: records.answers, additional: records.additional)
    }

    /// The zone's SOA: serial of the registry, timers and MINIMUM as the cluster zone's.
    func soaRecord() -> ResourceRecord {
        configuration.soaRecord(owner: origin, serial: snapshot.serial, primaryNameServer: nameServerName, responsibleMailbox: hostmasterName)
    }

    private func resolve(_ name: DNSName) -> Node? {
        // From the zone down: [ns, svc, _proto, _port].
        let labels = name.lowercasedLabels(below: origin.labelCount)
        switch labels.count {
        case 0:
            return .apex
        case 1:
            if labels[0] == "dns" { return .emptyNonTerminal }
            return index.hasServices(inNamespace: labels[0]) ? .emptyNonTerminal : nil
        case 2:
            if labels == ["dns", "ns1"] { return .nameServer }
            guard let service = externalService(namespace: labels[0], name: labels[1]) else { return nil }
            return .service(service)
        case 3:
            // `_tcp.<svc>.<ns>` exists when a named port uses that protocol.
            guard labels[2].hasPrefix("_"), let service = externalService(namespace: labels[0], name: labels[1]) else { return nil }
            let proto = labels[2].dropFirst()
            return service.ports.contains { !$0.name.isEmpty && $0.protocol.lowercased == proto } ? .emptyNonTerminal : nil
        case 4:
            guard labels[2].hasPrefix("_"), labels[3].hasPrefix("_"), let service = externalService(namespace: labels[0], name: labels[1]) else { return nil }
            let proto = labels[2].dropFirst(), portName = labels[3].dropFirst()
            let ports = service.ports.filter { !$0.name.isEmpty && $0.name.lowercased() == portName && $0.protocol.lowercased == proto }
            return ports.isEmpty ? nil : .servicePort(service, ports: ports)
        default:
            return nil
        }
    }

    private func externalService(namespace: String, name: String) -> Service? {
        guard let service = snapshot.service(namespace: namespace, name: name), service.hasExternalName else { return nil }
        return service
    }

    private func records(at node: Node, type: RecordType, owner: DNSName) -> (answers: [ResourceRecord], additional: [ResourceRecord]) {
        let ttl = configuration.ttl
        switch node {
        case .apex:
            switch type {
            case .soa: return ([soaRecord()], [])
            case .ns:
                let glue = configuration.nameServerAddresses.map { ResourceRecord(name: nameServerName, ttl: ttl, data: RecordData(address: $0)) }
                return ([ResourceRecord(name: owner, ttl: ttl, data: .ns(nameServerName))], glue)
            default: return ([], [])
            }
        case .emptyNonTerminal:
            return ([], [])
        case .nameServer:
            return (addressRecords(configuration.nameServerAddresses, type: type, owner: owner), [])
        case .service(let service):
            let addresses = service.externalAddresses
            if addresses.isEmpty, let host = service.ingressHostNames.first, let target = try? DNSName(host) {
                return ([ResourceRecord(name: owner, ttl: ttl, data: .cname(target.lowercased()))], [])
            }
            if type == .srv { return srvRecords(service, ports: service.ports, owner: owner) }
            return (addressRecords(addresses, type: type, owner: owner), [])
        case .servicePort(let service, let ports):
            guard type == .srv else { return ([], []) }
            return srvRecords(service, ports: ports, owner: owner)
        }
    }

    private func addressRecords(_ addresses: [IPAddress], type: RecordType, owner: DNSName) -> [ResourceRecord] {
        guard type == .a || type == .aaaa else { return [] }
        return addresses.filter { $0.recordType == type }.map { ResourceRecord(name: owner, ttl: configuration.ttl, data: RecordData(address: $0)) }
    }

    /// One SRV per port to `<svc>.<ns>.<zone>`, its addresses as glue; a Service known by a host
    /// name only has no address to give, and so no SRV.
    private func srvRecords(_ service: Service, ports: [ServicePort], owner: DNSName) -> (answers: [ResourceRecord], additional: [ResourceRecord]) {
        let addresses = service.externalAddresses
        guard !addresses.isEmpty, let target = try? origin.prepending(labels: [service.name.lowercased(), service.namespace.lowercased()]) else { return ([], []) }
        let ttl = configuration.ttl
        let ports = ports.map(\.port).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        let weight = srvWeight(count: ports.count)
        let answers = ports.map { ResourceRecord(name: owner, ttl: ttl, data: .srv(priority: 0, weight: weight, port: UInt16(clamping: $0), target: target)) }
        return (answers, addresses.map { ResourceRecord(name: target, ttl: ttl, data: RecordData(address: $0)) })
    }
}

extension ExternalZone {
    /// Every record of the zone in AXFR order: the SOA, the apex NS and its name server's
    /// addresses, then each exposed Service by namespace and name, with the SRV records of its
    /// named ports. Each comes from `answer(_:)`, so a transfer holds what queries are answered.
    public func transferRecords() -> [ResourceRecord] {
        var records = [soaRecord()]
        func add(_ name: DNSName, _ types: [RecordType]) {
            for type in types {
                records += answer(DNSQuestion(name: name, type: type)).answers.filter { $0.name == name && $0.type == type }
            }
        }
        add(origin, [.ns])
        add(nameServerName, [.a, .aaaa])
        let exposed = snapshot.servicesInAnyOrder.filter(\.hasExternalName).sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        for service in exposed {
            guard let name = try? origin.prepending(labels: [service.name.lowercased(), service.namespace.lowercased()]) else { continue }
            let isAlias = service.externalAddresses.isEmpty
            add(name, isAlias ? [.cname] : [.a, .aaaa, .srv])
            guard !isAlias else { continue }
            for port in service.ports where !port.name.isEmpty {
                guard let portName = try? name.prepending(labels: ["_\(port.name.lowercased())", "_\(port.protocol.lowercased)"]) else { continue }
                add(portName, [.srv])
            }
        }
        return records
    }
}

extension Service {
    /// `spec.externalIPs`, then the IPs of `status.loadBalancer.ingress`, each once.
    var externalAddresses: [IPAddress] {
        var addresses: [IPAddress] = []
        for address in externalIPs where !addresses.contains(address) { addresses.append(address) }
        for case .ip(let address) in loadBalancerIngress where !addresses.contains(address) { addresses.append(address) }
        return addresses
    }

    var ingressHostNames: [String] {
        loadBalancerIngress.compactMap { if case .hostname(let host) = $0 { host } else { nil } }
    }

    /// Whether the external zone has a name for this Service: it has an address, or a host name,
    /// that reaches it from outside the cluster.
    var hasExternalName: Bool { !externalIPs.isEmpty || !loadBalancerIngress.isEmpty }
}
