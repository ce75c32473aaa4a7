/// The identities of what a snapshot serves, kept between reloads so a reload can say what it took
/// away: a file emptied or deleted by mistake must stand out in the log, not pass as routine.
struct RegistryInventory: Sendable {
    private var services: Set<ObjectKey> = []
    private var endpoints: Set<EndpointKey> = []
    private var pods: Set<ObjectKey> = []
    private var namespaces: Set<String> = []

    /// An endpoint is known by its Service and addresses: that is what its DNS records are made of.
    private struct EndpointKey: Hashable, Sendable {
        var service: ObjectKey
        var addresses: [IPAddress]
    }

    init() {}

    init(_ snapshot: RegistrySnapshot) {
        for service in snapshot.services {
            let key = ObjectKey(namespace: service.namespace, name: service.name)
            services.insert(key)
            for group in snapshot.endpointGroups(of: service) {
                for endpoint in group.endpoints { endpoints.insert(EndpointKey(service: key, addresses: endpoint.addresses)) }
            }
        }
        for pod in snapshot.pods { pods.insert(ObjectKey(namespace: pod.namespace, name: pod.name)) }
        for namespace in snapshot.namespaces { namespaces.insert(ObjectKey.folded(namespace)) }
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
