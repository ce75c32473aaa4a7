import DNSWire
import ServiceRegistry

extension Catalog {
    /// Calls `body` with every name the cluster zone holds and the record types that name can own:
    /// the apex (SOA, NS), the name server's address name, `dns-version` (TXT), each Service with its
    /// `_port._proto` names and endpoint names, and verified pod names, each name once.
    ///
    /// Pod names in `insecure` mode are every dashed IP, so they are not listed here.
    /// Both the master-file export and the server's compiled answers walk this one list.
    public func forEachClusterZoneName(_ body: (DNSName, [RecordType]) -> Void) {
        clusterZone.forEachName(services: snapshot.services) { name, types, _ in body(name, types) }
    }
}

/// The walks themselves are the cluster zone's: a zone transfer lists its names without a catalog.
extension ClusterZone {
    /// `forEachClusterZoneName`, walking `services` in the order given, and handing over with each
    /// name what it resolves to where the walk knows that for certain (nil: resolve the name).
    func forEachName(services: some Sequence<Service>, _ body: (DNSName, [RecordType], ClusterName?) -> Void) {
        let addressTypes: [RecordType] = [.a, .aaaa]
        body(origin, [.soa, .ns], nil)
        if let nameServer = try? origin.prepending("dns").prepending("ns") {
            body(nameServer, addressTypes, nil)
        }
        if let version = try? origin.prepending("dns-version") {
            body(version, [.txt], nil)
        }
        for service in services { forEachName(of: service, body) }
        if configuration.podMode == .verified {
            // Two Pods of a namespace can share an address (one finished, one running): one name.
            var seen = Set<PodAddress>()
            snapshot.forEachPodAddress { namespace, address in
                guard seen.insert(PodAddress(namespace: namespace, address: address)).inserted,
                      let podName = try? origin.prepending(labels: [address.dashedLabel, namespace, "pod"]) else { return }
                body(podName, addressTypes, nil)
            }
        }
    }

    /// Calls `body` with every name one Service holds: its own name, its `_port._proto` names and
    /// its endpoint names; nothing when it has no name at all (a headless Service without ready
    /// endpoints). The unit a registry change patches. With each name comes what it resolves to
    /// when its labels are plain (a-z, 0-9, '-'): the name then has exactly these labels, and
    /// `ClusterZone.resolve` would find the same.
    func forEachName(of service: Service, _ body: (DNSName, [RecordType], ClusterName?) -> Void) {
        guard let endpointParent = forEachServiceLevelName(of: service, body) else { return }
        for endpoint in endpointLabels(of: service) {
            guard let (name, node) = endpointName(endpoint, of: service, under: endpointParent) else { continue }
            body(name, [.a, .aaaa], node)
        }
    }

    /// Where a Service's endpoint names go: under its own name, plain or not.
    struct EndpointParent {
        var serviceName: DNSName
        var isPlain: Bool
    }

    /// `forEachName(of:)` without the endpoint names: the Service's own name and its `_port._proto`
    /// names, which no endpoint's label makes. Returns where its endpoint names go; nil when it has
    /// none (no name at all, or an ExternalName).
    func forEachServiceLevelName(of service: Service, _ body: (DNSName, [RecordType], ClusterName?) -> Void) -> EndpointParent? {
        guard hasName(service),
            let serviceName = try? origin.prepending(labels: [service.name, service.namespace, "svc"].map { $0.lowercased() })
        else { return nil }
        let isPlain = Self.isPlainLabel(service.name) && Self.isPlainLabel(service.namespace)
        if service.type == .externalName {
            body(serviceName, [.cname], isPlain ? .service(service) : nil)
            return nil
        }
        body(serviceName, [.a, .aaaa, .srv], isPlain ? .service(service) : nil)
        var seenPorts = Set<String>()
        for port in service.ports where !port.name.isEmpty {
            let portLabel = port.name.lowercased()
            let proto = port.protocol.lowercased
            let labels = ["_" + portLabel, "_" + proto]
            guard seenPorts.insert(labels.joined(separator: ".")).inserted,
                let portName = try? serviceName.prepending(labels: labels)
            else { continue }
            let node: ClusterName? = isPlain && Self.isPlainLabel(portLabel)
                ? .servicePort(service, ports: service.ports.filter { !$0.name.isEmpty && $0.name.lowercased() == portLabel && $0.protocol.lowercased == proto })
                : nil
            body(portName, [.srv], node)
        }
        return EndpointParent(serviceName: serviceName, isPlain: isPlain)
    }

    /// One endpoint name of a Service: its label and every address published under it.
    struct EndpointLabel: Equatable {
        var label: String
        var addresses: [IPAddress]
    }

    /// The endpoint labels of `service`, each once, in the order its endpoints are published, with
    /// their addresses in that order. Two endpoints can share a label (one address in two slices,
    /// or on two ports): one name. Labels are in lower case already (`publishedEndpoints`).
    func endpointLabels(of service: Service) -> [EndpointLabel] {
        let endpoints = published.endpoints(of: service)
        var labels: [EndpointLabel] = []
        labels.reserveCapacity(endpoints.count)
        // Looked up by scanning while there are few; a Service of hundreds of endpoints gets a table
        // (each endpoint used to gather its label's addresses from all after it: quadratic).
        var positions: [String: Int] = [:]
        let scanned = 16
        for endpoint in endpoints {
            let position = labels.count <= scanned
                ? labels.firstIndex { $0.label == endpoint.label }
                : positions[endpoint.label]
            if let position {
                labels[position].addresses.append(endpoint.address)
                continue
            }
            labels.append(EndpointLabel(label: endpoint.label, addresses: [endpoint.address]))
            if labels.count == scanned + 1 {
                for index in labels.indices { positions[labels[index].label] = index }
            } else if labels.count > scanned + 1 {
                positions[endpoint.label] = labels.count - 1
            }
        }
        return labels
    }

    /// The name of one of a Service's endpoint labels and, when plain, what it resolves to.
    func endpointName(_ endpoint: EndpointLabel, of service: Service, under parent: EndpointParent) -> (DNSName, ClusterName?)? {
        guard let name = try? parent.serviceName.prepending(labels: [endpoint.label]) else { return nil }
        let node: ClusterName? = parent.isPlain && Self.isPlainLabel(endpoint.label)
            ? .endpoint(service, name: endpoint.label, addresses: endpoint.addresses)
            : nil
        return (name, node)
    }

    /// Whether `label` is made of a-z, 0-9 and '-' only, as valid Kubernetes names are.
    private static func isPlainLabel(_ label: String) -> Bool {
        !label.isEmpty && label.utf8.allSatisfy { $0 &- UInt8(ascii: "a") < 26 || $0 &- UInt8(ascii: "0") < 10 || $0 == UInt8(ascii: "-") }
    }
}

extension Catalog {
    /// Every name of the cluster zone and the reverse zones: what a full compile encodes. In no
    /// particular order: sorting the Services and the addresses was a tenth of the compile.
    public func forEachHeldName(_ body: (DNSName, [RecordType]) -> Void) {
        forEachHeldName { name, types, _ in body(name, types) }
    }

    /// `forEachHeldName`, with what a name is when the walk knows it.
    func forEachHeldName(_ body: (DNSName, [RecordType], KnownName?) -> Void) {
        clusterZone.forEachName(services: snapshot.servicesInAnyOrder) { body($0, $1, $2.map(KnownName.cluster)) }
        for zone in reverseZones {
            body(zone.origin, [.soa, .ns], nil)
            for address in zone.addressesInAnyOrder {
                if let owner = ZoneExport.reverseName(of: address) { body(owner, [.ptr], .reverse(address)) }
            }
        }
    }

    /// Calls `body` with the apex of `zone` (SOA, NS) and then the reverse name of every address it
    /// answers PTR for, in address order.
    public func forEachName(in zone: ReverseZone, _ body: (DNSName, [RecordType]) -> Void) {
        zone.forEachName(body)
    }
}

extension ReverseZone {
    /// `Catalog.forEachName(in:)`: the apex, then every address's reverse name in address order.
    func forEachName(_ body: (DNSName, [RecordType]) -> Void) {
        body(origin, [.soa, .ns])
        for address in addressesInAnyOrder.sorted() {
            if let owner = ZoneExport.reverseName(of: address) { body(owner, [.ptr]) }
        }
    }
}
