/// The identities of what a snapshot serves, kept between reloads so a reload can say what it took
/// away: a file emptied or deleted by mistake must stand out in the log, not pass as routine.
///
/// Kept as hashes of the identities (8 bytes each) rather than the keys themselves: only counts are
/// reported, and for 50k Services the keys held 7 MiB more at the peak. Hashes are seeded per
/// process, which is all the comparison needs; a collision would only undercount a removal.
struct RegistryInventory: Sendable {
    private var services: Set<Int> = []
    private var endpoints: Set<Int> = []
    private var pods: Set<Int> = []
    private var namespaces: Set<Int> = []

    /// An endpoint is known by its Service and addresses: that is what its DNS records are made of.
    private struct EndpointKey: Hashable, Sendable {
        var service: ObjectKey
        var addresses: [IPAddress]
    }

    init() {}

    init(_ snapshot: RegistrySnapshot) {
        for service in snapshot.services {
            let key = ObjectKey(namespace: service.namespace, name: service.name)
            services.insert(key.hashValue)
            for group in snapshot.endpointGroups(of: service) {
                for endpoint in group.endpoints { endpoints.insert(EndpointKey(service: key, addresses: endpoint.addresses).hashValue) }
            }
        }
        for pod in snapshot.pods { pods.insert(ObjectKey(namespace: pod.namespace, name: pod.name).hashValue) }
        for namespace in snapshot.namespaces { namespaces.insert(ObjectKey.folded(namespace).hashValue) }
    }

    /// How many of each kind this inventory holds that `newer` no longer does.
    func removed(in newer: RegistryInventory) -> RegistryRemoval {
        RegistryRemoval(
            services: services.subtracting(newer.services).count,
            endpoints: endpoints.subtracting(newer.endpoints).count,
            pods: pods.subtracting(newer.pods).count,
            namespaces: namespaces.subtracting(newer.namespaces).count)
    }
}

/// Counts of objects a reload removed, as the warning line says them.
struct RegistryRemoval: Hashable, Sendable, CustomStringConvertible {
    var services: Int
    var endpoints: Int
    var pods: Int
    var namespaces: Int

    var isEmpty: Bool { services == 0 && endpoints == 0 && pods == 0 && namespaces == 0 }

    /// `1 service, 2 endpoints, 0 pods, 1 namespace`.
    var description: String {
        [(services, "service"), (endpoints, "endpoint"), (pods, "pod"), (namespaces, "namespace")]
            .map { count, word in "\(count) \(word)\(count == 1 ? "" : "s")" }
            .joined(separator: ", ")
    }
}
