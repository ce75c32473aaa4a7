/// One valid object read from a manifest, with where it came from, waiting for the registry to
/// be assembled (duplicates found, ClusterIPs allocated, endpoints chosen).
struct DecodedObject {
    enum Content {
        case service(ServiceDraft)
        /// An EndpointSlice, attached to the Service its `kubernetes.io/service-name` label names.
        case endpointSlice(serviceName: String, group: EndpointGroup)
        /// Legacy Endpoints, one group per subset, attached to the Service of the same name.
        case endpoints(groups: [EndpointGroup])
        case pod(Pod)
        case namespace
    }

    var reference: ObjectReference
    var location: SourceLocation
    var content: Content
}

/// The valid objects of a load, sorted into what the builder needs as they are decoded, with
/// duplicates found on the way: collecting every decoded object in one list first held 30 MB more
/// at the peak of a load of 50k Services.
struct DecodedObjects {
    private(set) var drafts: [ServiceDraft] = []
    /// EndpointSlice groups by the Service they name.
    private(set) var slices: [ObjectKey: [EndpointGroup]] = [:]
    /// Legacy Endpoints groups by their (and their Service's) name.
    private(set) var legacyEndpoints: [ObjectKey: [EndpointGroup]] = [:]
    private(set) var pods: [Pod] = []
    /// `v1 Namespace` objects and the namespaces of all other objects.
    private(set) var namespaces: Set<String> = []
    /// The second of two objects with the same kind, namespace and name, in load order; the first is kept.
    private(set) var duplicateErrors: [RegistryError] = []

    /// Where each kind, namespace and name was first seen, as a file number and line: a location
    /// per object would double the size of these tables.
    private var firstSeen: [String: [ObjectKey: UInt64]] = [:]
    private var files: [String] = []

    mutating func add(_ object: DecodedObject) {
        let key = ObjectKey(namespace: object.reference.namespace, name: object.reference.name)
        if let first = firstSeen[object.reference.kind]?[key] {
            duplicateErrors.append(RegistryError(
                code: .duplicateObject,
                reason: "defined twice: here and at \(location(first)) (each kind/namespace/name may appear once)",
                location: object.location,
                object: object.reference
            ))
            return
        }
        firstSeen[object.reference.kind, default: [:]][key] = compact(object.location)
        switch object.content {
        case .service(let draft):
            drafts.append(draft)
        case .endpointSlice(let serviceName, let group):
            slices[ObjectKey(namespace: object.reference.namespace, name: serviceName), default: []].append(group)
        case .endpoints(let groups):
            legacyEndpoints[ObjectKey(namespace: object.reference.namespace, name: object.reference.name)] = groups
        case .pod(let pod):
            pods.append(pod)
        case .namespace:
            namespaces.insert(object.reference.name)
        }
        if !object.reference.namespace.isEmpty { namespaces.insert(object.reference.namespace) }
    }

    /// File number in the high half, line + 1 in the low half (0: no line).
    private mutating func compact(_ location: SourceLocation) -> UInt64 {
        if files.last != location.file { files.append(location.file) }
        let line = location.line.map { UInt64(UInt32(clamping: $0 + 1)) } ?? 0
        return UInt64(files.count - 1) << 32 | line
    }

    private func location(_ compact: UInt64) -> SourceLocation {
        let line = Int(compact & 0xffff_ffff)
        return SourceLocation(file: files[Int(compact >> 32)], line: line == 0 ? nil : line - 1)
    }
}
