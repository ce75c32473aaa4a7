/// The decoder's name for what it produces; the store calls the same value a `RegistryObject`.
typealias DecodedObject = RegistryObject

/// One valid object as a source delivers it: what it is, where it came from, and its content,
/// reduced to what DNS and the service environment need.
public struct RegistryObject: Sendable {
    indirect enum Content: Hashable, Sendable {
        case service(ServiceDraft)
        /// An EndpointSlice, attached to the Service its `kubernetes.io/service-name` label names.
        case endpointSlice(serviceName: String, group: EndpointGroup)
        /// Legacy Endpoints, one group per subset, attached to the Service of the same name.
        case endpoints(groups: [EndpointGroup])
        case pod(Pod)
        case namespace
        /// An object of a kind DNS does not read (a Deployment, a ConfigMap): it only makes its
        /// namespace exist.
        case other
    }

    public var reference: ObjectReference
    public var location: SourceLocation
    var content: Content

    init(reference: ObjectReference, location: SourceLocation, content: Content) {
        self.reference = reference
        self.location = location
        self.content = content
    }

    public var key: RegistryObjectKey { RegistryObjectKey(reference) }

    /// The same content read from another place.
    func relocated(to location: SourceLocation) -> RegistryObject {
        var copy = self
        copy.location = location
        copy.content = copy.content.locatedAt(location)
        return copy
    }
}

extension RegistryObject.Content {
    /// The content with every source location cleared, for comparisons: moving an object within
    /// its file (an edit above it shifts its line) is not a change DNS would show.
    var withoutLocations: Self { locatedAt(nil) }

    func locatedAt(_ location: SourceLocation?) -> Self {
        switch self {
        case .service(var draft):
            guard draft.service.source != nil || location != nil else { return self }
            draft.service.source = location
            return .service(draft)
        case .endpointSlice(let serviceName, var group):
            group.source = location
            return .endpointSlice(serviceName: serviceName, group: group)
        case .endpoints(let groups):
            return .endpoints(groups: groups.map { var group = $0; group.source = location; return group })
        case .pod(var pod):
            pod.source = location
            return .pod(pod)
        case .namespace, .other:
            return self
        }
    }
}

/// Identity of an object in the registry: kind, namespace and name, names compared without case.
public struct RegistryObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var kind: String
    public var key: ObjectKey

    public init(kind: String, namespace: some StringProtocol, name: some StringProtocol) {
        self.kind = kind
        self.key = ObjectKey(namespace: namespace, name: name)
    }

    public init(_ reference: ObjectReference) {
        self.init(kind: reference.kind, namespace: reference.namespace, name: reference.name)
    }

    public static func < (lhs: RegistryObjectKey, rhs: RegistryObjectKey) -> Bool {
        (lhs.kind, lhs.key) < (rhs.kind, rhs.key)
    }

    public var description: String {
        key.namespace.isEmpty ? "\(kind) \(key.name)" : "\(kind) \(key.namespace)/\(key.name)"
    }
}

/// The valid objects one decoder produced, in the order they were read, with duplicates found on
/// the way: the first of two objects with the same kind, namespace and name is kept.
struct DecodedObjects {
    private(set) var objects: [RegistryObject] = []
    var count: Int { objects.count }
    /// The second of two objects with the same kind, namespace and name, in load order.
    private(set) var duplicateErrors: [RegistryError] = []
    private var firstSeen = FirstDefinitions()
    /// The line each object starts on in its document, when duplicates are not looked for: the
    /// objects of stored values are located at their keys, and this says which value each was.
    private(set) var lines: [Int] = []
    /// False for values that are each an object of their own (etcd's, decoded in one batch): two
    /// of them naming the same object are no duplicate, and hashing every key to find out was 5%
    /// of decoding a list.
    let findsDuplicates: Bool

    init(findsDuplicates: Bool = true) {
        self.findsDuplicates = findsDuplicates
    }

    /// Room for `count` objects, when a decoder knows how many it will read.
    mutating func reserveCapacity(_ count: Int) {
        objects.reserveCapacity(count)
        if findsDuplicates { firstSeen.reserveCapacity(count) } else { lines.reserveCapacity(count) }
    }

    mutating func add(_ object: RegistryObject, line: Int?) {
        guard findsDuplicates else {
            objects.append(object)
            lines.append(line ?? 0)
            return
        }
        if let first = firstSeen.earlierLocation(of: object.key, recording: object.location) {
            duplicateErrors.append(RegistryError(
                code: .duplicateObject,
                reason: "defined twice: here and at \(first) (each kind/namespace/name may appear once)",
                location: object.location,
                object: object.reference
            ))
            return
        }
        objects.append(object)
    }

    /// The objects added so far, handed over; a later duplicate of one is still an error.
    mutating func drain() -> [RegistryObject] {
        defer { objects = []; lines = [] }
        return objects
    }
}
