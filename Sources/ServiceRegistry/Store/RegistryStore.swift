import Foundation
import HashTreeCollections

/// The registry as its sources describe it, kept change by change: objects by kind, namespace and
/// name, and the snapshot DNS reads, derived per Service.
///
/// Each batch of events finds the Services it touches (the Service itself, its EndpointSlices by
/// `kubernetes.io/service-name`, its legacy Endpoints, Pods its selector matches, Services whose
/// ClusterIP claims meet its own) and derives only those again. The snapshot's tables are
/// persistent, so the next snapshot shares everything the batch did not touch.
///
/// Loading a registry from scratch is the same path: one `replaceAll` into an empty store. That is
/// what makes an incremental registry equal to a fresh one.
public struct RegistryStore: Sendable {
    public let options: RegistryOptions
    public private(set) var snapshot: RegistrySnapshot
    /// Whether every source has delivered a complete view (`synced`, or a `replaceAll`).
    public private(set) var isSynced = false
    /// What the events staged since the last commit changed.
    private var staged = RegistryChange()
    /// Set while a registry is loaded from scratch into an empty store (`RegistryLoad`): its commit
    /// derives every Service held and its first catalog is built whole, so a change collects neither
    /// the Services (`RegistryChange.services`) nor the Pod addresses it touches. At a million Pods
    /// the address set was 84 MB of the load's peak; at 50k Services the Service set, with the
    /// selector walk for each Pod, a twentieth of the store's work.
    var loadsFromScratch = false
    private var stagedMoves = false

    // The objects as the sources gave them.
    // Persistent tries rather than Dictionaries, here and below: a Dictionary keeps room for every
    // bucket of its capacity inline, and a draft is a few hundred bytes (39 MB for 50k Services).
    /// Every Service, and every Service name EndpointSlices give, with its slices and what is
    /// derived for it; the snapshot publishes this very table.
    private var services = TreeDictionary<ObjectKey, ServiceEntry>()
    /// Entries of `services` that are served.
    private var servedCount = 0
    /// Entries of `services` with a Service.
    private var serviceObjectCount = 0
    /// The Service name (as the slice gives it) of each EndpointSlice, by the slice's namespace/name.
    private var sliceServices = TreeDictionary<ObjectKey, String>()
    private var legacyEndpoints: [ObjectKey: [EndpointGroup]] = [:]
    /// Namespaces of the `v1 Namespace` objects.
    private var declaredNamespaces: Set<String> = []
    /// Objects of kinds DNS does not read, by key, with their namespace.
    private var otherObjects: [RegistryObjectKey: String] = [:]
    /// Objects in each namespace (lower case), `v1 Namespace` objects included: it exists while this is above 0.
    private var namespaceUse: [String: Int] = [:]
    /// Services with a selector, indexed by one pair of it (namespace, label, value): a Pod change
    /// looks up its own labels' pairs, instead of trying every selector of its namespace. Keyed by
    /// the pair's hash, a sixth the size of the pair: a collision only has a Pod change try a
    /// selector that does not match it. A hash table, not a trie: no snapshot shares it, and the trie
    /// took 8 MB for the 45k selectors of 50k Services against 3 MB.
    private var selectorServices: [Int: ObjectKeys] = [:]

    // One copy of each value many objects repeat.
    private var servicePortLists = SharedValues<[ServicePort]>()
    /// Slices' ports and Pods' container ports.
    private var endpointPortLists = SharedValues<[EndpointPort]>()
    /// Selectors and Pod labels.
    private var labelSets = SharedValues<[String: String]>()
    private var familyLists = SharedValues<[IPFamily]>()

    private struct SelectorTerm: Hashable, Sendable {
        var namespace: String
        var label: String
        var value: String
    }

    // What is derived from them.
    /// Who names each address as its ClusterIP; the first by namespace/name owns it.
    private var claims = ClusterIPClaims()
    /// Addresses the store allocated, and to whom. An allocation sticks while its Service lives, as
    /// the API server's would.
    private var allocations: [ObjectKey: [IPAddress]] = [:]
    private var allocatedOwner: [IPAddress: ObjectKey] = [:]
    /// Addresses named by objects that were rejected: never allocated, but owned by no one.
    public var reservedAddresses: Set<IPAddress> = []
    /// Why a Service is not served (a ClusterIP clash, an allocation that failed).
    private var serviceErrors: [ObjectKey: RegistryError] = [:]
    /// Where the source of the events being applied says an object sits now (`apply(_:serial:locating:)`).
    private var locator: Locator?

    // The snapshot's tables, changed in place and shared with each snapshot published.
    private var servicesByClusterIP = AddressTable<ObjectKey>()
    private var podsByKey = PodTable()
    private var podsByIP = AddressTable<PodKeys>()
    private var namespaceNames = TreeDictionary<String, String>()

    public init(options: RegistryOptions = .init(), serial: UInt32 = 0) {
        self.options = options
        self.snapshot = RegistrySnapshot(
            serial: serial, serviceEntries: [:], serviceCount: 0, servicesByClusterIP: AddressTable(),
            podsByKey: PodTable(), podsByIP: AddressTable(), namespaceNames: [:])
    }

    /// Problems found while deriving (ClusterIP clashes, failed allocations), by object.
    public var errors: [RegistryError] {
        serviceErrors.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The number of objects held, of every kind.
    public var objectCount: Int {
        serviceObjectCount + sliceServices.count + legacyEndpoints.count + podsByKey.count + declaredNamespaces.count + otherObjects.count
    }

    /// Applies a batch of events as one change. Returns the new snapshot and what changed, or nil
    /// when the batch changed nothing DNS shows (the snapshot is then kept, serial and all).
    /// - Parameter serial: the new snapshot's serial; by default `max(previous + 1, now)`.
    public mutating func apply(_ events: [RegistryEvent], serial: UInt32? = nil) -> RegistryUpdate? {
        stage(events)
        return commit(serial: serial)
    }

    /// Takes in events without deriving anything yet, so that a large load can hand its objects
    /// over file by file and never hold them all twice; `commit` then derives what they touched.
    public mutating func stage(_ events: [RegistryEvent]) {
        var change = staged
        var moved = stagedMoves
        staged = RegistryChange()
        for event in events {
            switch event {
            case .upsert(let object):
                moved = upsert(object, into: &change) || moved
            case .delete(let key):
                delete(key, into: &change)
            case .replaceAll(let objects, let keeping):
                moved = replaceAll(objects, keeping: keeping, into: &change) || moved
                isSynced = true
            case .synced:
                isSynced = true
            }
        }
        staged = change
        stagedMoves = moved
    }

    /// `stage` of an upsert of each object but those at the indices `skipped`, taking the objects
    /// where they lie: a load hands over some 120k objects at 50k Services, and wrapping each in an
    /// event copied it whole (its references retained, and released with the events).
    mutating func stage(upserting objects: [RegistryObject], except skipped: Set<Int> = []) {
        var change = staged
        var moved = stagedMoves
        staged = RegistryChange()
        objects.withUnsafeBufferPointer { objects in
            for index in objects.indices where skipped.isEmpty || !skipped.contains(index) {
                moved = upsert(objects[index], into: &change) || moved
            }
        }
        staged = change
        stagedMoves = moved
    }

    /// Derives every Service the staged events touched and publishes the new snapshot (see `apply`).
    public mutating func commit(serial: UInt32? = nil) -> RegistryUpdate? {
        let change = staged
        let moved = stagedMoves
        staged = RegistryChange()
        stagedMoves = false
        if loadsFromScratch {
            // Only allocating a ClusterIP depends on the order Services are derived in (each takes
            // the first free address of its probe): those alone are sorted. Sorting every key of
            // 50k Services was a sixtieth of a load's instructions.
            var allocating: [ObjectKey] = []
            for key in Array(services.keys) {
                if !derive(key, deferringAllocation: true) { allocating.append(key) }
            }
            for key in allocating.sorted() { derive(key) }
        } else {
            for key in change.services.sorted() { derive(key) }
        }
        guard !change.isEmpty else {
            // Objects that only moved within their files: same answers, new locations for errors.
            if moved { publish(serial: snapshot.serial) }
            return nil
        }
        publish(serial: serial ?? Self.nextSerial(after: snapshot.serial))
        return RegistryUpdate(snapshot: snapshot, change: change)
    }

    /// Derives the Services the staged events touched, without publishing: a load staged in steps
    /// (an etcd list, page by page) derives as it goes, and `commitWhole` publishes once at the
    /// end. A snapshot published between steps would share the store's tables and make every
    /// later step copy the paths it changes. What changed is not reported: nothing saw it before.
    public mutating func deriveStaged() {
        let change = staged
        staged = RegistryChange()
        stagedMoves = false
        for key in change.services.sorted() { derive(key) }
    }

    /// Derives what is staged and publishes the snapshot under a new serial, whatever changed: the
    /// end of a load staged in steps (see `deriveStaged`), whose serial is taken once, when it is whole.
    public mutating func commitWhole(serial: UInt32? = nil) {
        let previous = snapshot.serial
        _ = commit(serial: previous)
        publish(serial: serial ?? Self.nextSerial(after: previous))
    }

    /// `max(previous + 1, now)`: serials keep growing across restarts, as an SOA serial must.
    public static func nextSerial(after previous: UInt32) -> UInt32 {
        let now = UInt32(clamping: Int(Date().timeIntervalSince1970))
        return max(previous &+ 1, now)
    }

    private mutating func publish(serial: UInt32) {
        snapshot = RegistrySnapshot(
            serial: serial, serviceEntries: services, serviceCount: servedCount,
            servicesByClusterIP: servicesByClusterIP, podsByKey: podsByKey, podsByIP: podsByIP, namespaceNames: namespaceNames)
    }

    /// Where an object sits now, as its source knows it: asked only when a message names a
    /// Service. An edit of a file moves every object below it, and the store told of each move
    /// (hundreds an edit, into a table of every Service moved) spent a twentieth of an endpoint
    /// edit's work on lines that only an error message would ever read.
    public typealias Locator = @Sendable (RegistryObjectKey) -> SourceLocation?

    /// `apply(_:serial:)`, with messages naming Services where `locating` says they are now (a file
    /// source's objects move as lines are added above them), rather than where they were read.
    public mutating func apply(_ events: [RegistryEvent], serial: UInt32? = nil, locating: @escaping Locator) -> RegistryUpdate? {
        locator = locating
        defer { locator = nil }
        return apply(events, serial: serial)
    }

    /// Where a Service held now sits.
    private func source(of key: ObjectKey, _ service: Service) -> SourceLocation? {
        locator?(RegistryObjectKey(kind: "Service", key: key)) ?? service.source
    }

    // MARK: Objects in

    /// Whether an object is held at `key` (a source asks, instead of keeping a copy of each).
    public func holds(_ key: RegistryObjectKey) -> Bool {
        switch key.kind {
        case "Service": return services[key.key]?.hasDraft ?? false
        case "EndpointSlice": return sliceServices[key.key] != nil
        case "Endpoints": return legacyEndpoints[key.key] != nil
        case "Pod": return podsByKey[key.key] != nil
        case "Namespace": return declaredNamespaces.contains(key.key.name)
        default: return otherObjects[key] != nil
        }
    }

    /// Every key held now, of every kind.
    private var allKeys: [RegistryObjectKey] {
        services.compactMap { $0.value.hasDraft ? RegistryObjectKey(kind: "Service", key: $0.key) : nil }
            + sliceServices.keys.map { RegistryObjectKey(kind: "EndpointSlice", key: $0) }
            + legacyEndpoints.keys.map { RegistryObjectKey(kind: "Endpoints", key: $0) }
            + podsByKey.keys.map { RegistryObjectKey(kind: "Pod", key: $0) }
            + declaredNamespaces.map { RegistryObjectKey(kind: "Namespace", namespace: "", name: $0) }
            + otherObjects.keys
    }

    /// - Returns: true when only locations changed (nothing DNS shows).
    private mutating func replaceAll(_ objects: [RegistryObject], keeping: Set<RegistryObjectKey>, into change: inout RegistryChange) -> Bool {
        var listed = Set<RegistryObjectKey>()
        var fresh: [RegistryObject] = []
        fresh.reserveCapacity(objects.count)
        for object in objects where listed.insert(object.key).inserted { fresh.append(object) }
        for key in allKeys where !listed.contains(key) && !keeping.contains(key) { delete(key, into: &change) }
        var moved = false
        for object in fresh { moved = upsert(object, into: &change) || moved }
        return moved
    }

    /// - Returns: true when the object was held already with the same content, read elsewhere.
    private mutating func upsert(_ object: RegistryObject, into change: inout RegistryChange) -> Bool {
        let key = object.key.key
        switch object.content {
        case .service(let draft):
            let entry = services[key]
            let old = entry?.draft
            if let old, RegistryObject.Content.service(old).withoutLocations == object.content.withoutLocations {
                guard old.service.source != draft.service.source else { return false }
                var moved = old
                moved.service.source = draft.service.source
                services[key]?.draft = moved
                return true
            }
            if let old {
                unshare(old)
            } else {
                use(namespace: draft.service.namespace, by: 1, into: &change)
            }
            unpublishClusterIPs(of: key, entry: entry)
            setEntry(ServiceEntry(draft: share(draft), slices: entry?.slices ?? ServiceSlices()), for: key, replacing: entry)
            claim(key, old: old?.service.clusterIPs ?? [], new: draft.service.clusterIPs, into: &change)
            index(selectorOf: key, old: old?.service.selector, new: draft.service.selector)
            touch(key, in: &change)
        case .endpointSlice(let serviceName, let group):
            let service = ObjectKey(namespace: key.namespace, name: serviceName)
            let oldServiceName = sliceServices[key]
            if oldServiceName == serviceName {
                switch sliceGroup(named: key.name, of: service) {
                case nil where group.endpoints.isEmpty:
                    // Without endpoints before and after: nothing DNS answers from changed.
                    return false
                case let old? where old.withoutSource == group.withoutSource:
                    guard old.source != group.source else { return false }
                    var relocated = old
                    relocated.source = group.source
                    insertSlice(relocated, named: key.name, into: service)
                    regroup(service)
                    return true
                default:
                    break
                }
            }
            if let oldServiceName {
                removeSlice(key, from: oldServiceName, into: &change)
            } else {
                use(namespace: key.namespace, by: 1, into: &change)
            }
            sliceServices[key] = serviceName
            insertSlice(group, named: key.name, into: service)
            touch(service, in: &change)
        case .endpoints(let groups):
            let old = legacyEndpoints[key]
            if let old, old.map(\.withoutSource) == groups.map(\.withoutSource) {
                guard old.map(\.source) != groups.map(\.source) else { return false }
                legacyEndpoints[key] = groups
                regroup(key)
                return true
            }
            if old == nil { use(namespace: key.namespace, by: 1, into: &change) }
            legacyEndpoints[key] = groups
            touch(key, in: &change)
        case .pod(let pod):
            let stored = StoredPod(pod, key: key)
            // A load from scratch is handed each key once (`RegistryLoad` drops later definitions).
            let old = loadsFromScratch ? nil : podsByKey[key]
            if let old {
                // Where a Pod was read is not kept: one that only moved in its file changes nothing.
                guard old != stored else { return false }
                removePod(key, old, into: &change, counting: false)
            }
            addPod(key, stored, into: &change, counting: old == nil)
        case .namespace:
            if declaredNamespaces.insert(key.name).inserted { use(namespace: key.name, by: 1, into: &change) }
            return false
        case .other:
            if otherObjects[object.key] == nil {
                otherObjects[object.key] = key.namespace
                use(namespace: key.namespace, by: 1, into: &change)
            }
            return false
        }
        return false
    }

    private mutating func delete(_ objectKey: RegistryObjectKey, into change: inout RegistryChange) {
        let key = objectKey.key
        switch objectKey.kind {
        case "Service":
            guard let entry = services[key], let old = entry.draft else { return }
            unpublishClusterIPs(of: key, entry: entry)
            setEntry(ServiceEntry(draft: nil, slices: entry.slices), for: key, replacing: entry)
            unshare(old)
            change.removed.services += 1
            use(namespace: key.namespace, by: -1, into: &change)
            claim(key, old: old.service.clusterIPs, new: [], into: &change)
            index(selectorOf: key, old: old.service.selector, new: nil)
            touch(key, in: &change)
        case "EndpointSlice":
            guard let serviceName = sliceServices.removeValue(forKey: key) else { return }
            let service = ObjectKey(namespace: key.namespace, name: serviceName)
            change.removed.endpoints += sliceGroup(named: key.name, of: service)?.endpoints.count ?? 0
            use(namespace: key.namespace, by: -1, into: &change)
            removeSlice(key, from: serviceName, into: &change)
        case "Endpoints":
            guard let old = legacyEndpoints.removeValue(forKey: key) else { return }
            change.removed.endpoints += old.reduce(0) { $0 + $1.endpoints.count }
            use(namespace: key.namespace, by: -1, into: &change)
            touch(key, in: &change)
        case "Pod":
            guard let old = podsByKey[key] else { return }
            change.removed.pods += 1
            removePod(key, old, into: &change, counting: true)
        case "Namespace":
            guard declaredNamespaces.remove(key.name) != nil else { return }
            use(namespace: key.name, by: -1, into: &change)
        default:
            guard otherObjects.removeValue(forKey: objectKey) != nil else { return }
            use(namespace: key.namespace, by: -1, into: &change)
        }
    }

    private mutating func removeSlice(_ key: ObjectKey, from serviceName: String, into change: inout RegistryChange) {
        let service = ObjectKey(namespace: key.namespace, name: serviceName)
        let old = services[service]
        var entry = old ?? ServiceEntry(draft: nil)
        if let removed = entry.slices.remove(named: key.name) {
            endpointPortLists.release(removed.ports)
        }
        setEntry(entry, for: service, replacing: old)
        touch(service, in: &change)
    }

    /// The group of a slice with endpoints among those of `service`.
    private func sliceGroup(named name: String, of service: ObjectKey) -> EndpointGroup? {
        services[service]?.slices.group(named: name)
    }

    /// Puts a slice among its Service's (`ServiceSlices.insert`), sharing its port list. The entry
    /// is changed where it lies: neither served nor holding a Service changes, so no counts to keep.
    private mutating func insertSlice(_ group: EndpointGroup, named name: String, into service: ObjectKey) {
        var group = group
        if !group.endpoints.isEmpty { group.ports = endpointPortLists.share(group.ports) }
        if let replaced = services[service, default: ServiceEntry(draft: nil)].slices.insert(group, named: name) {
            endpointPortLists.release(replaced.ports)
        }
    }

    /// Hands a served Service its sources' groups again after they only moved within their files,
    /// so that the snapshot shares the store's arrays instead of keeping the old ones alive.
    private mutating func regroup(_ key: ObjectKey) {
        guard let entry = services[key], entry.isServed, let draft = entry.draft, draft.service.type != .externalName else { return }
        let groups = endpointGroups(of: draft, key: key, slices: entry.slices)
        services[key]?.endpointGroups = groups
    }

    /// Replaces a Service's entry (dropping one left with neither a Service nor slices), keeping
    /// count of those served and of those with a Service.
    /// - Parameter old: the entry held now, as the caller read it.
    private mutating func setEntry(_ entry: ServiceEntry?, for key: ObjectKey, replacing old: ServiceEntry?) {
        let entry = entry.flatMap { !$0.hasDraft && $0.slices.isEmpty ? nil : $0 }
        if let old {
            if old.isServed { servedCount -= 1 }
            if old.hasDraft { serviceObjectCount -= 1 }
        }
        if let entry {
            if entry.isServed { servedCount += 1 }
            if entry.hasDraft { serviceObjectCount += 1 }
        }
        services[key] = entry
    }

    /// - Parameter counting: the Pod is new to its namespace (not a new version of one held).
    private mutating func addPod(_ key: ObjectKey, _ pod: StoredPod, into change: inout RegistryChange, counting: Bool) {
        var pod = pod
        pod.labels = labelSets.share(pod.labels)
        pod.containerPorts = endpointPortLists.share(pod.containerPorts)
        podsByKey[key] = pod
        if counting { use(namespace: key.namespace, by: 1, into: &change) }
        for ip in pod.addresses where options.indexesPodsByAddress {
            var pods = podsByIP[ip]?.keys ?? []
            pods.insert(key, at: pods.firstIndex { $0 > key } ?? pods.endIndex)
            podsByIP[ip] = PodKeys(pods)
            if !loadsFromScratch { change.podAddresses.insert(PodAddress(namespace: key.namespace, address: ip)) }
        }
        if !loadsFromScratch { touchSelectors(in: key.namespace, labels: pod.labels, into: &change) }
    }

    private mutating func removePod(_ key: ObjectKey, _ pod: StoredPod, into change: inout RegistryChange, counting: Bool) {
        podsByKey[key] = nil
        labelSets.release(pod.labels)
        endpointPortLists.release(pod.containerPorts)
        if counting { use(namespace: key.namespace, by: -1, into: &change) }
        for ip in pod.addresses where options.indexesPodsByAddress {
            podsByIP[ip] = PodKeys((podsByIP[ip]?.keys ?? []).filter { $0 != key })
            if !loadsFromScratch { change.podAddresses.insert(PodAddress(namespace: key.namespace, address: ip)) }
        }
        if !loadsFromScratch { touchSelectors(in: key.namespace, labels: pod.labels, into: &change) }
    }

    /// The draft with the shared copies of its port list, selector and families, used once more.
    private mutating func share(_ draft: ServiceDraft) -> ServiceDraft {
        var draft = draft
        draft.service.ports = servicePortLists.share(draft.service.ports)
        draft.service.selector = draft.service.selector.map { labelSets.share($0) }
        draft.ipFamilies = familyLists.share(draft.ipFamilies)
        return draft
    }

    /// Counts one use less of a shared draft's values.
    private mutating func unshare(_ draft: ServiceDraft) {
        servicePortLists.release(draft.service.ports)
        if let selector = draft.service.selector { labelSets.release(selector) }
        familyLists.release(draft.ipFamilies)
    }

    /// Services in `namespace` whose selector matches `labels` are derived again.
    private func touchSelectors(in namespace: String, labels: [String: String], into change: inout RegistryChange) {
        for (label, value) in labels {
            selectorServices[SelectorTerm(namespace: namespace, label: label, value: value).hashValue]?.forEach { key in
                if key.namespace == namespace, let selector = services[key]?.draft?.service.selector, SelectorEndpoints.matches(selector, labels) {
                    touch(key, in: &change)
                }
            }
        }
    }

    /// Moves the Service's entry in `selectorServices` from its `old` selector's term to its `new` one's.
    /// Takes the selectors alone: a Service passed here was a copy of its dozen references.
    private mutating func index(selectorOf key: ObjectKey, old: [String: String]?, new: [String: String]?) {
        // Each term hashed once: its three strings were hashed for the lookup and again for the store.
        if let term = Self.indexTerm(of: old, in: key.namespace)?.hashValue {
            selectorServices[term] = selectorServices[term]?.removing(key)
        }
        if let term = Self.indexTerm(of: new, in: key.namespace)?.hashValue {
            selectorServices[term] = ObjectKeys.adding(key, to: selectorServices[term])
        }
    }

    /// The pair a selector is indexed by: its least label, so every matching Pod has it.
    /// - Parameter namespace: the Service's, folded as its key has it.
    private static func indexTerm(of selector: [String: String]?, in namespace: String) -> SelectorTerm? {
        guard let selector, let least = selector.min(by: { $0.key < $1.key }) else { return nil }
        return SelectorTerm(namespace: namespace, label: least.key, value: least.value)
    }

    /// Moves `key`'s ClusterIP claims from `old` to `new`; every other claimant of those addresses,
    /// and any Service allocated one of them, is derived again.
    private mutating func claim(_ key: ObjectKey, old: [IPAddress], new: [IPAddress], into change: inout RegistryChange) {
        guard old != new else { return }
        for ip in old {
            claims.remove(key, from: ip)
            if !loadsFromScratch { change.services.formUnion(claims.claimants(of: ip)) }
        }
        for ip in new {
            if !loadsFromScratch { change.services.formUnion(claims.claimants(of: ip)) }
            claims.add(key, to: ip)
            if let owner = allocatedOwner[ip], owner != key { touch(owner, in: &change) }
        }
    }

    /// `key`'s Service is to be derived again (unless every Service is: `loadsFromScratch`).
    private func touch(_ key: ObjectKey, in change: inout RegistryChange) {
        if !loadsFromScratch { change.services.insert(key) }
    }

    private mutating func use(namespace: String, by delta: Int, into change: inout RegistryChange) {
        guard !namespace.isEmpty else { return }
        let folded = ObjectKey.folded(namespace)
        // One lookup of the count, changed where it lies: each object of a load comes here.
        let (before, count) = Self.add(delta, to: &namespaceUse[folded, default: 0])
        if count <= 0 {
            namespaceUse[folded] = nil
            namespaceNames[folded] = nil
            change.namespaces = true
            change.removed.namespaces += 1
        } else if before == 0 {
            namespaceNames[folded] = namespace
            change.namespaces = true
        }
    }

    private static func add(_ delta: Int, to value: inout Int) -> (before: Int, after: Int) {
        let before = value
        value += delta
        return (before, value)
    }

    // MARK: Derivation

    /// Derives one Service again: its ClusterIPs (claimed, kept or allocated), its endpoints, and
    /// its entries in the snapshot's tables.
    /// - Parameter deferringAllocation: leave a Service that needs ClusterIPs allocated underived,
    ///   to be derived later in key order.
    /// - Returns: false when it was left so.
    @discardableResult
    private mutating func derive(_ key: ObjectKey, deferringAllocation: Bool = false) -> Bool {
        // The entry is looked up once: a list derives 50k Services on its one task.
        let entry = services[key]
        unpublishClusterIPs(of: key, entry: entry)
        if !serviceErrors.isEmpty { serviceErrors[key] = nil }
        guard let entry, let draft = entry.draft else {
            release(key)
            return true
        }
        if let clash = draft.service.clusterIPs.first(where: { (claims.owner(of: $0) ?? key) != key }), let owner = claims.owner(of: clash),
            let ownerService = services[owner]?.draft?.service
        {
            serviceErrors[key] = RegistryError(
                code: .clusterIPClash,
                reason: "\(clash) is already the ClusterIP of \(ownerService.reference)"
                    + (source(of: owner, ownerService).map { " (\($0))" } ?? "") + "; two Services cannot share a ClusterIP",
                location: source(of: key, draft.service), object: draft.service.reference, field: "spec.clusterIP")
            withdraw(key, entry)
            return true
        }
        var allocated: [IPAddress]?
        if draft.needsAllocation {
            guard !deferringAllocation else { return false }
            guard let addresses = allocate(for: draft, key: key) else {
                withdraw(key, entry)
                return true
            }
            allocated = addresses
        } else {
            release(key)
        }
        let groups = draft.service.type == .externalName ? [] : endpointGroups(of: draft, key: key, slices: entry.slices)
        let servedEntry = ServiceEntry(draft: draft, allocatedClusterIPs: allocated, isServed: true, endpointGroups: groups, slices: entry.slices)
        setEntry(servedEntry, for: key, replacing: entry)
        for ip in servedEntry.ownedClusterIPs ?? [] { servicesByClusterIP[ip] = key }
        return true
    }

    /// Takes a served Service's ClusterIPs out of `servicesByClusterIP`, before its entry (`entry`,
    /// as the caller read it) changes.
    private mutating func unpublishClusterIPs(of key: ObjectKey, entry: ServiceEntry?) {
        guard let owned = entry?.ownedClusterIPs else { return }
        for ip in owned where servicesByClusterIP[ip] == key {
            servicesByClusterIP[ip] = nil
        }
    }

    /// Keeps a Service out of the snapshot (not servable).
    private mutating func withdraw(_ key: ObjectKey, _ entry: ServiceEntry) {
        release(key)
        setEntry(ServiceEntry(draft: entry.draft, slices: entry.slices), for: key, replacing: entry)
    }

    private mutating func release(_ key: ObjectKey) {
        guard !allocations.isEmpty else { return }
        for ip in allocations.removeValue(forKey: key) ?? [] where allocatedOwner[ip] == key {
            allocatedOwner[ip] = nil
        }
    }

    /// Gives a Service without (enough) ClusterIPs its addresses from the first service CIDR of each
    /// family it needs, keeping what it was allocated before while that is still free and fitting.
    /// - Returns: every ClusterIP the Service is served with, or nil when allocation failed.
    private mutating func allocate(for draft: ServiceDraft, key: ObjectKey) -> [IPAddress]? {
        let service = draft.service
        let defaultFamily: IPFamily = options.serviceCIDR(ipv4: true) != nil || options.serviceCIDRs.isEmpty ? .ipv4 : .ipv6
        let primary = draft.ipFamilies.first ?? defaultFamily
        var wanted = [primary]
        if draft.wantsDualStack {
            if options.serviceCIDR(ipv4: primary.other == .ipv4) != nil {
                wanted.append(primary.other)
            } else if draft.requiresDualStack {
                fail(service, "ipFamilyPolicy RequireDualStack needs an \(primary.other.rawValue) service CIDR (--service-cidr) to allocate from", field: "spec.ipFamilyPolicy")
                return nil
            }
        }
        let previous = allocations[key] ?? []
        release(key)
        var addresses = service.clusterIPs
        var allocated: [IPAddress] = []
        for family in wanted where !addresses.contains(where: { IPFamily(of: $0) == family }) {
            guard let network = options.serviceCIDR(ipv4: family == .ipv4) else {
                fail(service, "the Service has no ClusterIP and there is no \(family.rawValue) service CIDR (--service-cidr) to allocate one from", field: "spec.clusterIP")
                return nil
            }
            let kept = previous.first { IPFamily(of: $0) == family && network.contains($0) && claims.owner(of: $0) == nil && allocatedOwner[$0] == nil }
            let address = kept ?? ClusterIPAllocator.allocate(namespace: service.namespace, name: service.name, in: network) {
                claims.owner(of: $0) != nil || allocatedOwner[$0] != nil || reservedAddresses.contains($0)
            }
            guard let address else {
                serviceErrors[key] = RegistryError(
                    code: .clusterIPClash, reason: "no free address left in the service CIDR \(network) to allocate a ClusterIP",
                    location: source(of: key, service), object: service.reference, field: "spec.clusterIP")
                for ip in allocated { allocatedOwner[ip] = nil }
                return nil
            }
            allocatedOwner[address] = key
            allocated.append(address)
            addresses.append(address)
        }
        allocations[key] = allocated
        return wanted.compactMap { family in addresses.first { IPFamily(of: $0) == family } }
            + addresses.filter { address in !wanted.contains(IPFamily(of: address)) }
    }

    private mutating func fail(_ service: Service, _ reason: String, field: String) {
        let key = ObjectKey(namespace: service.namespace, name: service.name)
        serviceErrors[key] = RegistryError(code: .invalidValue, reason: reason, location: source(of: key, service), object: service.reference, field: field)
    }

    /// The first source present wins: EndpointSlices (by slice name), legacy Endpoints, the selector.
    private func endpointGroups(of draft: ServiceDraft, key: ObjectKey, slices: ServiceSlices) -> [EndpointGroup] {
        if !slices.isEmpty { return slices.groups }
        if let groups = legacyEndpoints[key] { return groups }
        let service = draft.service
        guard service.selector?.isEmpty == false else { return [] }
        let pods = podsByKey.pods(inNamespace: key.namespace)
        let families = service.clusterIPs.isEmpty ? draft.ipFamilies : service.clusterIPs.map(IPFamily.init(of:))
        return SelectorEndpoints.groups(for: service, families: families, pods: pods)
    }
}

extension RegistryObjectKey {
    init(kind: String, key: ObjectKey) {
        self.kind = kind
        self.key = key
    }
}

extension EndpointGroup {
    var withoutSource: EndpointGroup {
        var copy = self
        copy.source = nil
        return copy
    }
}

/// Who names each address as its ClusterIP. The first claimant by namespace/name owns it; nearly
/// every address has one claimant, kept without a set of its own.
struct ClusterIPClaims: Sendable {
    /// The first claimant of each address, in an `AddressTable` (IPv4 addresses by their 32 bits:
    /// an `IPAddress` key took 24 bytes of each of a hash table's buckets, 3.7 → 2.4 MB at 50k
    /// Services).
    private var owners = AddressTable<ObjectKey>()
    /// Every claimant of the addresses more than one Service names.
    private var contested: [IPAddress: Set<ObjectKey>] = [:]

    func owner(of ip: IPAddress) -> ObjectKey? { owners[ip] }

    func claimants(of ip: IPAddress) -> Set<ObjectKey> {
        contested[ip] ?? owners[ip].map { [$0] } ?? []
    }

    mutating func add(_ key: ObjectKey, to ip: IPAddress) {
        guard let owner = owners[ip] else {
            owners[ip] = key
            return
        }
        var all = contested[ip] ?? [owner]
        all.insert(key)
        contested[ip] = all
        owners[ip] = all.min()
    }

    mutating func remove(_ key: ObjectKey, from ip: IPAddress) {
        guard var all = contested[ip] else {
            if owners[ip] == key { owners[ip] = nil }
            return
        }
        all.remove(key)
        owners[ip] = all.min()
        contested[ip] = all.count > 1 ? all : nil
    }
}

/// A set of keys that is nearly always of one: the one is kept inline, without a set's allocation
/// (most selectors are their Service's alone). Never empty: the index drops a term with no key.
enum ObjectKeys: Sendable {
    case one(ObjectKey)
    case many(Set<ObjectKey>)

    /// `keys` with `key` added.
    static func adding(_ key: ObjectKey, to keys: ObjectKeys?) -> ObjectKeys {
        switch keys {
        case nil: return .one(key)
        case .one(let single) where single == key: return .one(key)
        case .one(let single): return .many([single, key])
        case .many(var all):
            all.insert(key)
            return .many(all)
        }
    }

    /// These keys without `key`; nil when none is left.
    func removing(_ key: ObjectKey) -> ObjectKeys? {
        switch self {
        case .one(let single): return single == key ? nil : self
        case .many(var all):
            all.remove(key)
            if all.count == 1, let last = all.first { return .one(last) }
            return all.isEmpty ? nil : .many(all)
        }
    }

    func forEach(_ body: (ObjectKey) -> Void) {
        switch self {
        case .one(let single): body(single)
        case .many(let all): for key in all { body(key) }
        }
    }
}
