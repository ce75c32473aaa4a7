import HashTreeCollections

/// Case-insensitive key of a namespaced object: names are compared lower-cased, as DNS requires.
public struct ObjectKey: Hashable, Sendable, Comparable {
    public let namespace: String
    public let name: String

    public init(namespace: some StringProtocol, name: some StringProtocol) {
        self.namespace = Self.folded(namespace)
        self.name = Self.folded(name)
    }

    /// `text.lowercased()`, but a text that is already lower case (every valid Kubernetes name is)
    /// is kept as it is: a `String` then shares its storage instead of allocating a copy per key.
    /// The bytes are read where they lie when they can be: walking a `String`'s UTF-8 through its
    /// generic index took some 400 instructions a key, 3 % of a 50k List's load.
    public static func folded(_ text: some StringProtocol) -> String {
        let needsLowering =
            text.utf8.withContiguousStorageIfAvailable { $0.contains(where: isUpperOrNotASCII) }
            ?? text.utf8.contains(where: isUpperOrNotASCII)
        return needsLowering ? text.lowercased() : String(text)
    }

    @inline(__always)
    private static func isUpperOrNotASCII(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "A") < 26 || byte >= 0x80 }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

/// One immutable, consistent view of the cluster. Readers never see a half-applied change.
///
/// The snapshot holds resolved data: every non-headless Service has its ClusterIPs (allocated
/// when the manifest had none) and every Service's endpoints are already chosen from slices,
/// legacy Endpoints or its selector.
///
/// Its tables are persistent hash tries (`TreeDictionary`): the store makes the next snapshot by
/// changing a few entries of this one, and the two share everything else, so a change costs what
/// it changes rather than a copy of the cluster.
public final class RegistrySnapshot: Sendable {
    /// Grows on every change a source publishes; the SOA serial follows it.
    public let serial: UInt32

    /// Every Service the manifests hold, served or not, with its endpoint groups: one entry per
    /// Service, the same the store keeps, rather than a draft, a served copy and a group list apart.
    /// (Also entries of EndpointSlices' Service names without a Service: never served.)
    let serviceEntries: TreeDictionary<ObjectKey, ServiceEntry>
    /// The number of entries served (not withdrawn for a ClusterIP clash or a failed allocation).
    public let serviceCount: Int
    /// The Service owning each ClusterIP (keys, not copies: the Service is in `serviceEntries`).
    let servicesByClusterIP: AddressTable<ObjectKey>
    let podsByKey: PodTable
    /// The Pods at each address, sorted by namespace and name.
    let podsByIP: AddressTable<PodKeys>
    /// Lower-cased namespace → the namespace as first written.
    let namespaceNames: TreeDictionary<String, String>

    init(
        serial: UInt32,
        serviceEntries: TreeDictionary<ObjectKey, ServiceEntry>,
        serviceCount: Int,
        servicesByClusterIP: AddressTable<ObjectKey>,
        podsByKey: PodTable,
        podsByIP: AddressTable<PodKeys>,
        namespaceNames: TreeDictionary<String, String>
    ) {
        self.serial = serial
        self.serviceEntries = serviceEntries
        self.serviceCount = serviceCount
        self.servicesByClusterIP = servicesByClusterIP
        self.podsByKey = podsByKey
        self.podsByIP = podsByIP
        self.namespaceNames = namespaceNames
    }

    /// A snapshot of resolved objects, as tests and tools build one by hand.
    /// - Parameters:
    ///   - endpointGroups: the chosen endpoint groups of each Service, keyed by the Service (groups of
    ///     a key without a Service are left out).
    ///   - namespaces: namespaces that exist besides those of the Services and Pods.
    public convenience init(
        serial: UInt32,
        services: [Service],
        endpointGroups: [ObjectKey: [EndpointGroup]],
        pods: [Pod],
        namespaces: [String]
    ) {
        var entries = TreeDictionary<ObjectKey, ServiceEntry>()
        var byIP = AddressTable<ObjectKey>()
        for service in services.sorted(by: { ($0.namespace, $0.name) < ($1.namespace, $1.name) }) {
            let key = ObjectKey(namespace: service.namespace, name: service.name)
            entries[key] = ServiceEntry(
                draft: ServiceDraft(service: service, listedFamilies: [], policy: nil), isServed: true,
                endpointGroups: endpointGroups[key] ?? [])
            if service.ownsClusterIPs {
                for ip in service.clusterIPs where byIP[ip] == nil { byIP[ip] = key }
            }
        }
        var podsByKey = PodTable()
        var podsByIP: [IPAddress: [ObjectKey]] = [:]
        for pod in pods.sorted(by: { ($0.namespace, $0.name) < ($1.namespace, $1.name) }) {
            let key = ObjectKey(namespace: pod.namespace, name: pod.name)
            podsByKey[key] = StoredPod(pod, key: key)
            for ip in pod.podIPs { podsByIP[ip, default: []].append(key) }
        }
        var names = TreeDictionary<String, String>()
        for namespace in namespaces + services.map(\.namespace) + pods.map(\.namespace) {
            let folded = ObjectKey.folded(namespace)
            if names[folded] == nil { names[folded] = namespace }
        }
        self.init(
            serial: serial, serviceEntries: entries, serviceCount: entries.count, servicesByClusterIP: byIP, podsByKey: podsByKey,
            podsByIP: podsByIP.reduce(into: AddressTable()) { table, entry in table[entry.key] = PodKeys(entry.value) },
            namespaceNames: names)
    }

    /// An empty registry (no objects), for tests and for the moment before the first load.
    public static let empty = RegistrySnapshot(serial: 1, services: [], endpointGroups: [:], pods: [], namespaces: [])

    /// Every Service, sorted by namespace, then name. Sorts on each call: for tools and full walks.
    public var services: [Service] {
        serviceEntries.sorted { $0.key < $1.key }.compactMap(\.value.served)
    }

    /// Every Service in no particular order, without sorting: for building indexes.
    public var servicesInAnyOrder: some Sequence<Service> { serviceEntries.values.lazy.compactMap(\.served) }

    /// Calls `body` with every Service, in no particular order. The loop is compiled here, for the
    /// concrete table: walked from another module through `servicesInAnyOrder`'s opaque type,
    /// each step went through unspecialized generic code, a third of building a catalog.
    public func forEachService(_ body: (Service) throws -> Void) rethrows {
        for entry in serviceEntries.values {
            try entry.withServed(body)
        }
    }

    /// Every Pod, sorted by namespace, then name. Sorts on each call.
    public var pods: [Pod] {
        var pods: [Pod] = []
        pods.reserveCapacity(podsByKey.count)
        podsByKey.forEachSorted { key, pod in pods.append(pod.pod(key)) }
        return pods
    }

    /// Calls `body` with every Pod's namespace (lower case) and each of its addresses, primary
    /// first, the Pods in the order of `pods`, without making a `Pod` of each.
    public func forEachPodAddress(_ body: (_ namespace: String, _ address: IPAddress) -> Void) {
        podsByKey.forEachSorted { key, pod in
            for address in pod.addresses { body(key.namespace, address) }
        }
    }

    /// Every namespace that exists: `v1 Namespace` objects plus each namespace holding an object. Sorted.
    public var namespaces: [String] { namespaceNames.values.sorted() }

    public var podCount: Int { podsByKey.count }
    public var namespaceCount: Int { namespaceNames.count }

    public func service(namespace: some StringProtocol, name: some StringProtocol) -> Service? {
        serviceEntries[ObjectKey(namespace: namespace, name: name)]?.served
    }

    public func service(_ key: ObjectKey) -> Service? { serviceEntries[key]?.served }

    /// The endpoint groups chosen for a Service (all endpoints, ready or not; callers filter). An
    /// EndpointSlice without endpoints gives no group.
    public func endpointGroups(namespace: some StringProtocol, service: some StringProtocol) -> [EndpointGroup] {
        serviceEntries[ObjectKey(namespace: namespace, name: service)]?.endpointGroups ?? []
    }

    public func endpointGroups(of service: Service) -> [EndpointGroup] {
        endpointGroups(namespace: service.namespace, service: service.name)
    }

    /// The Service whose ClusterIPs include `ip` (two Services never share one), as a list.
    public func services(withClusterIP ip: IPAddress) -> [Service] {
        servicesByClusterIP[ip].flatMap { serviceEntries[$0]?.served }.map { [$0] } ?? []
    }

    /// Pods with `ip` among their pod IPs, sorted by namespace and name; none when the registry's
    /// options leave out the index (`RegistryOptions.indexesPodsByAddress`).
    public func pods(withIP ip: IPAddress) -> [Pod] {
        (podsByIP[ip]?.keys ?? []).compactMap { key in podsByKey[key]?.pod(key) }
    }

    /// Whether a Pod of `namespace` has `ip` among its pod IPs (what a pod name in `verified` mode
    /// asks), without making the Pods. False when the index is left out, as for `pods(withIP:)`.
    public func hasPod(withIP ip: IPAddress, inNamespace namespace: some StringProtocol) -> Bool {
        guard let keys = podsByIP[ip] else { return false }
        let folded = ObjectKey.folded(namespace)
        return keys.contains { $0.namespace == folded }
    }

    public func pod(namespace: some StringProtocol, name: some StringProtocol) -> Pod? {
        let key = ObjectKey(namespace: namespace, name: name)
        return podsByKey[key]?.pod(key)
    }

    /// True when the namespace exists (case-insensitive).
    public func hasNamespace(_ namespace: some StringProtocol) -> Bool {
        namespaceNames[ObjectKey.folded(namespace)] != nil
    }

    /// Services of one namespace, sorted by name.
    public func services(inNamespace namespace: some StringProtocol) -> [Service] {
        let namespace = ObjectKey.folded(namespace)
        return serviceEntries.filter { $0.key.namespace == namespace }.sorted { $0.key < $1.key }.compactMap(\.value.served)
    }
}

/// The Pods at one address, sorted by namespace and name. Nearly every address has one Pod, kept
/// inline rather than in an array of its own.
struct PodKeys: Sendable {
    private var first: ObjectKey
    private var rest: [ObjectKey]

    /// nil when `keys` (sorted) is empty.
    init?(_ keys: [ObjectKey]) {
        guard let first = keys.first else { return nil }
        self.first = first
        self.rest = Array(keys.dropFirst())
    }

    var keys: [ObjectKey] { [first] + rest }

    func contains(where predicate: (ObjectKey) -> Bool) -> Bool {
        predicate(first) || rest.contains(where: predicate)
    }
}

/// The EndpointSlices of one Service. A slice without endpoints is only counted: its ports and
/// address type answer nothing (40k of the 49k slices of a large cluster have none), but it still
/// makes slices the Service's source of endpoints.
struct ServiceSlices: Sendable {
    /// The groups of the slices with endpoints, sorted by slice name: the array the Service's entry
    /// is given, so each group is kept once.
    var groups: [EndpointGroup] = []
    var emptySlices = 0

    var isEmpty: Bool { groups.isEmpty && emptySlices == 0 }

    /// The slice's name as its key has it.
    static func name(of group: EndpointGroup) -> String { ObjectKey.folded(group.object.name) }

    /// Puts a slice's group in name order, in place of the group of that name; a slice without
    /// endpoints is only counted.
    /// - Returns: the group replaced.
    mutating func insert(_ group: EndpointGroup, named name: String) -> EndpointGroup? {
        guard !group.endpoints.isEmpty else {
            emptySlices += 1
            return nil
        }
        let index = groups.firstIndex { Self.name(of: $0) >= name } ?? groups.endIndex
        guard index < groups.endIndex, Self.name(of: groups[index]) == name else {
            groups.insert(group, at: index)
            return nil
        }
        defer { groups[index] = group }
        return groups[index]
    }

    /// The group of the slice named `name`, if it has endpoints.
    func group(named name: String) -> EndpointGroup? {
        groups.first { Self.name(of: $0) == name }
    }

    /// Takes out the slice named `name`: its group, or one of the slices only counted.
    /// - Returns: the group taken out.
    mutating func remove(named name: String) -> EndpointGroup? {
        guard let index = groups.firstIndex(where: { Self.name(of: $0) == name }) else {
            emptySlices -= 1
            return nil
        }
        return groups.remove(at: index)
    }
}

/// A Service as its manifest gives it, and what the store derived for it.
///
/// The fields live in one box, replaced on change: a table lookup copies what it finds, and copying
/// one reference is cheaper than the dozen a draft holds. Only the slices are changed in place, while
/// one entry holds the box: a load adds each Service's slices one by one, and a new box for each
/// copied the draft again.
struct ServiceEntry: Sendable {
    /// `slices` is written only while one entry holds the box (`isKnownUniquelyReferenced`), so no
    /// two threads see it change.
    private final class Fields: @unchecked Sendable {
        let draft: ServiceDraft?
        // The flags right after the draft, in what its last word leaves free.
        let hasDraft: Bool
        let isServed: Bool
        let allocatedClusterIPs: [IPAddress]?
        let endpointGroups: [EndpointGroup]
        var slices: ServiceSlices

        init(draft: ServiceDraft?, isServed: Bool, allocatedClusterIPs: [IPAddress]?, endpointGroups: [EndpointGroup], slices: ServiceSlices) {
            self.draft = draft
            self.hasDraft = draft != nil
            self.isServed = isServed
            self.allocatedClusterIPs = allocatedClusterIPs
            self.endpointGroups = endpointGroups
            self.slices = slices
        }
    }

    private var fields: Fields

    init(
        draft: ServiceDraft?, allocatedClusterIPs: [IPAddress]? = nil, isServed: Bool = false, endpointGroups: [EndpointGroup] = [],
        slices: ServiceSlices = ServiceSlices()
    ) {
        fields = Fields(draft: draft, isServed: isServed, allocatedClusterIPs: allocatedClusterIPs, endpointGroups: endpointGroups, slices: slices)
    }

    /// nil while only EndpointSlices name the Service.
    var draft: ServiceDraft? {
        get { fields.draft }
        set { self = ServiceEntry(draft: newValue, allocatedClusterIPs: allocatedClusterIPs, isServed: isServed, endpointGroups: endpointGroups, slices: slices) }
    }
    /// `draft != nil`, without the copy of the draft (a dozen references) that reading it makes:
    /// the store asks at every change of an entry, some 250k times in a 50k-Service load.
    var hasDraft: Bool { fields.hasDraft }
    /// False while it is withdrawn (a ClusterIP clash, a failed allocation) or not derived yet.
    var isServed: Bool { fields.isServed }
    /// Every ClusterIP it is served with, in order, when the store allocated some; nil when it is
    /// served with the manifest's own.
    var allocatedClusterIPs: [IPAddress]? { fields.allocatedClusterIPs }
    /// The groups chosen from its slices, legacy Endpoints or selector; empty while not served.
    /// Slice and Endpoints groups are the store's own arrays, shared rather than copied.
    var endpointGroups: [EndpointGroup] {
        get { fields.endpointGroups }
        set { self = ServiceEntry(draft: draft, allocatedClusterIPs: allocatedClusterIPs, isServed: isServed, endpointGroups: newValue, slices: slices) }
    }
    /// Its EndpointSlices, which may come before the Service and outlive it.
    var slices: ServiceSlices {
        get { fields.slices }
        _modify {
            if !isKnownUniquelyReferenced(&fields) {
                fields = Fields(
                    draft: fields.draft, isServed: fields.isServed, allocatedClusterIPs: fields.allocatedClusterIPs,
                    endpointGroups: fields.endpointGroups, slices: fields.slices)
            }
            yield &fields.slices
        }
    }

    /// The ClusterIPs it is served with when they are its own addresses (`Service.ownsClusterIPs`),
    /// as the store indexes them; nil otherwise. Read in place, not through a copy of the Service
    /// as `served` makes one.
    var ownedClusterIPs: [IPAddress]? {
        // `Service.ownsClusterIPs`, asked of the fields where they lie (a call through the
        // optional copied the Service).
        guard fields.isServed, fields.draft?.service.isHeadless == false, fields.draft?.service.type != .externalName else { return nil }
        return fields.allocatedClusterIPs ?? fields.draft?.service.clusterIPs
    }

    /// Calls `body` with `served`, when it is served: the manifest's own Service lent where it lies
    /// when no ClusterIPs were allocated, not copied (a dozen references; a catalog's start reads
    /// every Service).
    func withServed(_ body: (Service) throws -> Void) rethrows {
        guard fields.isServed else { return }
        guard fields.allocatedClusterIPs == nil else {
            if let service = served { try body(service) }
            return
        }
        try fields.draft.map { try body($0.service) }
    }

    /// The Service as DNS answers it: with its allocated ClusterIPs; nil while not served.
    var served: Service? {
        guard fields.isServed, var service = fields.draft?.service else { return nil }
        guard let allocatedClusterIPs = fields.allocatedClusterIPs else { return service }
        service.clusterIPs = allocatedClusterIPs
        service.clusterIPAllocated = true
        return service
    }
}

extension Service {
    /// Whether the Service's ClusterIPs are its own addresses (answered and reversed): not for
    /// headless or ExternalName Services.
    public var ownsClusterIPs: Bool { !isHeadless && type != .externalName }
}
