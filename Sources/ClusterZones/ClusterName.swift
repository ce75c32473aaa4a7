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
                for address in endpoint.addressList {
                    // Folded, not `lowercased()`: a hostname in lower case already (as the API
                    // requires) keeps its one copy rather than a second per endpoint (15 MB at a million).
                    let label = endpoint.hostname.flatMap { $0.isEmpty ? nil : ObjectKey.folded($0) } ?? address.dashedLabel
                    let named = NamedEndpoint(label: label, address: address, ports: group.ports)
                    if seen.insert(named).inserted { result.append(named) }
                }
            }
        }
        return result
    }
}

extension IPAddress {
    /// `dashed`, lower-cased: the label of an endpoint or pod name. An IPv4 label is written
    /// directly (at most 15 bytes, so a String without an allocation): `dashed` goes through the
    /// address's text and Foundation's replacing, a tenth of building the catalog.
    var dashedLabel: String {
        guard case .v4(let value) = self else { return dashed.lowercased() }
        return String(unsafeUninitializedCapacity: 15) { buffer in
            var count = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let byte = UInt8(truncatingIfNeeded: value >> UInt32(shift))
                if shift != 24 {
                    buffer[count] = UInt8(ascii: "-")
                    count += 1
                }
                if byte >= 100 {
                    buffer[count] = UInt8(ascii: "0") + byte / 100
                    count += 1
                }
                if byte >= 10 {
                    buffer[count] = UInt8(ascii: "0") + byte / 10 % 10
                    count += 1
                }
                buffer[count] = UInt8(ascii: "0") + byte % 10
                count += 1
            }
            return count
        }
    }
}

/// A Service's namespace and name folded as `ObjectKey` folds them, made without `ObjectKey.init`,
/// whose folding is generic across modules and so walks each byte through protocol witnesses (a
/// fifth of building the catalog, which makes several keys per Service).
struct ServiceKey: Hashable, Sendable, Comparable {
    let namespace: String
    let name: String

    init(_ service: Service) {
        namespace = Self.folded(service.namespace)
        name = Self.folded(service.name)
    }

    init(_ key: ObjectKey) {
        namespace = key.namespace
        name = key.name
    }

    /// `ObjectKey.folded`: lower-cased, or the text itself when it is already lower case.
    private static func folded(_ text: String) -> String {
        for byte in text.utf8 where byte &- UInt8(ascii: "A") < 26 || byte >= 0x80 {
            return text.lowercased()
        }
        return text
    }

    static func < (lhs: ServiceKey, rhs: ServiceKey) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

/// Every Service's published endpoints, worked out once per snapshot instead of once per query,
/// and patched per Service when the registry changes (a persistent table, shared between catalogs).
struct PublishedEndpointIndex: Sendable {
    private(set) var byService: TreeDictionary<ServiceKey, [NamedEndpoint]> = [:]

    init() {}

    init(snapshot: RegistrySnapshot) {
        snapshot.forEachService { set($0, key: ServiceKey($0), in: snapshot) }
    }

    /// Works out one Service's endpoints again from `snapshot` (none once it is gone).
    mutating func update(_ key: ObjectKey, in snapshot: RegistrySnapshot) {
        guard let service = snapshot.service(key) else {
            byService[ServiceKey(key)] = nil
            return
        }
        set(service, key: ServiceKey(key), in: snapshot)
    }

    /// Works out the endpoints of `service` (whose key is `key`) from `snapshot`, and returns them.
    @discardableResult
    mutating func set(_ service: Service, key: ServiceKey, in snapshot: RegistrySnapshot) -> [NamedEndpoint] {
        let endpoints = service.type == .externalName ? [] : snapshot.publishedEndpoints(of: service)
        byService[key] = endpoints.isEmpty ? nil : endpoints
        return endpoints
    }

    func endpoints(of service: Service) -> [NamedEndpoint] {
        byService[ServiceKey(service)] ?? []
    }
}
