import HashTreeCollections
import ServiceRegistry

/// What a name inside the cluster zone refers to, found once per query; every record type is
/// built from this one result (the shape of CoreDNS's parse + findServices).
enum ClusterName {
    /// `<zone>` itself: SOA and NS.
    case apex
    /// A name that exists only because names below it do (`svc.<zone>`, `<ns>.svc.<zone>`,
    /// `dns.<zone>`, `_tcp.<svc>...`): NOERROR with no records.
    case emptyNonTerminal
    /// `dns-version.<zone>`: the schema version TXT.
    case dnsVersion
    /// `ns.dns.<zone>`: the name server's own addresses.
    case nameServer
    /// `<svc>.<ns>.svc.<zone>`.
    case service(Service)
    /// `<endpoint>.<svc>.<ns>.svc.<zone>`, with the published endpoints of that name.
    case endpoint(Service, name: String, addresses: [IPAddress])
    /// `_<port>._<proto>.<svc>.<ns>.svc.<zone>` with the matching named ports.
    case servicePort(Service, ports: [ServicePort])
    /// `<dashed-ip>.<ns>.pod.<zone>`.
    case pod(IPAddress)
}

/// A published endpoint address with the DNS label it answers at.
struct NamedEndpoint: Hashable, Sendable {
    var label: String
    var address: IPAddress
    /// Ports of the group the endpoint belongs to.
    var ports: [EndpointPort]
}

extension RegistrySnapshot {
    /// Endpoints that DNS publishes for a Service: ready ones, or all with publishNotReadyAddresses.
    /// Each address gets its label: the endpoint's hostname, else its dashed IP.
    func publishedEndpoints(of service: Service) -> [NamedEndpoint] {
        var result: [NamedEndpoint] = []
        var seen = Set<NamedEndpoint>()
        for group in endpointGroups(of: service) {
            for endpoint in group.endpoints where endpoint.ready || service.publishNotReadyAddresses {
                for address in endpoint.addresses {
                    let label = (endpoint.hostname?.isEmpty == false ? endpoint.hostname! : address.dashed).lowercased()
                    let named = NamedEndpoint(label: label, address: address, ports: group.ports)
                    if seen.insert(named).inserted { result.append(named) }
                }
            }
        }
        return result
    }
}

/// Every Service's published endpoints, worked out once per snapshot instead of once per query,
/// and patched per Service when the registry changes (a persistent table, shared between catalogs).
struct PublishedEndpointIndex: Sendable {
    private(set) var byService: TreeDictionary<ObjectKey, [NamedEndpoint]> = [:]

    init(snapshot: RegistrySnapshot) {
        for service in snapshot.servicesInAnyOrder {
            update(ObjectKey(namespace: service.namespace, name: service.name), in: snapshot)
        }
    }

    /// Works out one Service's endpoints again from `snapshot` (none once it is gone).
    mutating func update(_ key: ObjectKey, in snapshot: RegistrySnapshot) {
        guard let service = snapshot.service(key), service.type != .externalName else {
            byService[key] = nil
            return
        }
        let endpoints = snapshot.publishedEndpoints(of: service)
        byService[key] = endpoints.isEmpty ? nil : endpoints
    }

    func endpoints(of service: Service) -> [NamedEndpoint] {
        byService[ObjectKey(namespace: service.namespace, name: service.name)] ?? []
    }
}
