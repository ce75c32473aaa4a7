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
        forEachClusterZoneName(services: snapshot.services, body)
    }

    /// `forEachClusterZoneName`, walking `services` in the order given.
    private func forEachClusterZoneName(services: some Sequence<Service>, _ body: (DNSName, [RecordType]) -> Void) {
        let origin = clusterZone.origin
        let addressTypes: [RecordType] = [.a, .aaaa]
        body(origin, [.soa, .ns])
        if let nameServer = try? origin.prepending("dns").prepending("ns") {
            body(nameServer, addressTypes)
        }
        if let version = try? origin.prepending("dns-version") {
            body(version, [.txt])
        }
        for service in services { forEachName(of: service, body) }
        if configuration.podMode == .verified {
            // Two Pods of a namespace can share an address (one finished, one running): one name.
            var seen = Set<PodAddress>()
            for pod in snapshot.pods {
                for address in pod.podIPs where seen.insert(PodAddress(namespace: pod.namespace, address: address)).inserted {
                    if let podName = try? origin.prepending(labels: [address.dashedLabel, pod.namespace.lowercased(), "pod"]) {
                        body(podName, addressTypes)
                    }
                }
            }
        }
    }

    /// Calls `body` with every name one Service holds: its own name, its `_port._proto` names and
    /// its endpoint names; nothing when it has no name at all (a headless Service without ready
    /// endpoints). The unit a registry change patches.
    func forEachName(of service: Service, _ body: (DNSName, [RecordType]) -> Void) {
        guard clusterZone.hasName(service),
            let serviceName = try? clusterZone.origin.prepending(labels: [service.name, service.namespace, "svc"].map { $0.lowercased() })
        else { return }
        if service.type == .externalName {
            body(serviceName, [.cname])
            return
        }
        let addressTypes: [RecordType] = [.a, .aaaa]
        body(serviceName, addressTypes + [.srv])
        var seenPorts = Set<String>()
        for port in service.ports where !port.name.isEmpty {
            let labels = ["_" + port.name.lowercased(), "_" + port.protocol.lowercased]
            guard seenPorts.insert(labels.joined(separator: ".")).inserted,
                let portName = try? serviceName.prepending(labels: labels)
            else { continue }
            body(portName, [.srv])
        }
        // Two endpoints can share a label (one address in two slices, or on two ports): one name.
        // Labels are in lower case already (`publishedEndpoints`).
        var seenLabels = Set<String>()
        for endpoint in clusterZone.published.endpoints(of: service) where seenLabels.insert(endpoint.label).inserted {
            if let endpointName = try? serviceName.prepending(labels: [endpoint.label]) {
                body(endpointName, addressTypes)
            }
        }
    }

    /// Every name of the cluster zone and the reverse zones: what a full compile encodes. In no
    /// particular order: sorting the Services and the addresses was a tenth of the compile.
    public func forEachHeldName(_ body: (DNSName, [RecordType]) -> Void) {
        forEachClusterZoneName(services: snapshot.servicesInAnyOrder, body)
        for zone in reverseZones { forEachName(in: zone, addresses: zone.addressesInAnyOrder, body) }
    }

    /// Calls `body` with the apex of `zone` (SOA, NS) and then the reverse name of every address it
    /// answers PTR for, in address order.
    public func forEachName(in zone: ReverseZone, _ body: (DNSName, [RecordType]) -> Void) {
        forEachName(in: zone, addresses: zone.addressesInAnyOrder.sorted(), body)
    }

    private func forEachName(in zone: ReverseZone, addresses: some Sequence<IPAddress>, _ body: (DNSName, [RecordType]) -> Void) {
        body(zone.origin, [.soa, .ns])
        for address in addresses {
            if let owner = ZoneExport.reverseName(of: address) { body(owner, [.ptr]) }
        }
    }
}
