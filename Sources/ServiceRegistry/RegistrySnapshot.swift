/// Case-insensitive key of a namespaced object: names are compared lower-cased, as DNS requires.
public struct ObjectKey: Hashable, Sendable {
    public let namespace: String
    public let name: String

    public init(namespace: some StringProtocol, name: some StringProtocol) {
        self.namespace = Self.folded(namespace)
        self.name = Self.folded(name)
    }

    /// `text.lowercased()`, but a text that is already lower case (every valid Kubernetes name is)
    /// is kept as it is: a `String` then shares its storage instead of allocating a copy per key.
    static func folded(_ text: some StringProtocol) -> String {
        for byte in text.utf8 where byte &- UInt8(ascii: "A") < 26 || byte >= 0x80 {
            return text.lowercased()
        }
        return String(text)
    }
}

/// One immutable, consistent view of the cluster. Sources build a new snapshot off the hot path
/// and publish it whole; readers never see a half-applied change.
///
/// The snapshot holds resolved data: every non-headless Service has its ClusterIPs (allocated
/// when the manifest had none) and every Service's endpoints are already chosen from slices,
/// legacy Endpoints or its selector.
public final class RegistrySnapshot: Sendable {
    /// Grows on every change a source publishes; the SOA serial follows it.
    public let serial: UInt32
    /// Sorted by namespace, then name.
    public let services: [Service]
    /// Sorted by namespace, then name.
    public let pods: [Pod]
    /// Every namespace that exists: `v1 Namespace` objects plus each namespace holding an object. Sorted.
    public let namespaces: [String]

    /// Positions in `services`: a second copy of every Service would cost its size again.
    private let servicesByKey: [ObjectKey: Int]
    private let endpointGroupsByService: [ObjectKey: [EndpointGroup]]
    private let servicesByClusterIP: [IPAddress: [Service]]
    private let podsByIP: [IPAddress: [Pod]]
    private let namespaceSet: Set<String>

    /// - Parameters:
    ///   - endpointGroups: the chosen endpoint groups of each Service, keyed by the Service.
    public init(
        serial: UInt32,
        services: [Service],
        endpointGroups: [ObjectKey: [EndpointGroup]],
        pods: [Pod],
        namespaces: [String]
    ) {
        self.serial = serial
        self.services = services.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        self.pods = pods.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        var allNamespaces = Set(namespaces)
        for service in services { allNamespaces.insert(service.namespace) }
        for pod in pods { allNamespaces.insert(pod.namespace) }
        self.namespaces = allNamespaces.sorted()
        self.namespaceSet = Set(allNamespaces.map { $0.lowercased() })

        var byKey: [ObjectKey: Int] = [:]
        byKey.reserveCapacity(self.services.count)
        var byIP: [IPAddress: [Service]] = [:]
        for (index, service) in self.services.enumerated() {
            byKey[ObjectKey(namespace: service.namespace, name: service.name)] = index
            if !service.isHeadless && service.type != .externalName {
                for ip in service.clusterIPs { byIP[ip, default: []].append(service) }
            }
        }
        self.servicesByKey = byKey
        self.servicesByClusterIP = byIP
        self.endpointGroupsByService = endpointGroups

        var podIndex: [IPAddress: [Pod]] = [:]
        for pod in self.pods {
            for ip in pod.podIPs { podIndex[ip, default: []].append(pod) }
        }
        self.podsByIP = podIndex
    }

    /// An empty registry (no objects), for tests and for the moment before the first load.
    public static let empty = RegistrySnapshot(serial: 1, services: [], endpointGroups: [:], pods: [], namespaces: [])

    public func service(namespace: some StringProtocol, name: some StringProtocol) -> Service? {
        servicesByKey[ObjectKey(namespace: namespace, name: name)].map { services[$0] }
    }

    /// The endpoint groups chosen for a Service (all endpoints, ready or not; callers filter).
    public func endpointGroups(namespace: some StringProtocol, service: some StringProtocol) -> [EndpointGroup] {
        endpointGroupsByService[ObjectKey(namespace: namespace, name: service)] ?? []
    }

    public func endpointGroups(of service: Service) -> [EndpointGroup] {
        endpointGroups(namespace: service.namespace, service: service.name)
    }

    /// Services whose ClusterIPs include `ip`, sorted by namespace and name.
    public func services(withClusterIP ip: IPAddress) -> [Service] {
        servicesByClusterIP[ip] ?? []
    }

    /// Pods with `ip` among their pod IPs.
    public func pods(withIP ip: IPAddress) -> [Pod] {
        podsByIP[ip] ?? []
    }

    public func pod(namespace: some StringProtocol, name: some StringProtocol) -> Pod? {
        let namespace = namespace.lowercased()
        let name = name.lowercased()
        return pods.first { $0.namespace.lowercased() == namespace && $0.name.lowercased() == name }
    }

    /// True when the namespace exists (case-insensitive).
    public func hasNamespace(_ namespace: some StringProtocol) -> Bool {
        namespaceSet.contains(namespace.lowercased())
    }

    /// Services of one namespace, sorted by name.
    public func services(inNamespace namespace: some StringProtocol) -> [Service] {
        let namespace = namespace.lowercased()
        return services.filter { $0.namespace.lowercased() == namespace }
    }
}
