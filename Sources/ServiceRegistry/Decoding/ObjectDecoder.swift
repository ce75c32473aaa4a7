/// Reads Kubernetes objects out of parsed documents: unwraps `List`s, reads the envelope
/// (apiVersion, kind, metadata) and hands each kind the registry uses to its own decoder.
/// Objects with errors are left out; their errors are kept. Objects with warnings only are kept,
/// and so are their warnings.
struct ObjectDecoder {
    private(set) var objects: DecodedObjects
    /// Where the object starting on a line of the document is from, when not from that line of
    /// the document's file (stored values decoded as one List are each from their own key): the
    /// objects are made there, not moved there afterwards (which copied each once more).
    var locate: ((_ line: Int) -> SourceLocation?)?
    private(set) var skipped: [SkippedObject] = []
    /// Errors and warnings, in document order within each object.
    private(set) var errors: [RegistryError] = []
    /// Objects left out because of errors whose kind, namespace and name were read, so a reload
    /// can keep their last good version.
    private(set) var rejected: [RejectedObject] = []
    /// Every ClusterIP a manifest names, valid object or not, so allocation never hands one out.
    private(set) var claimedClusterIPs: Set<IPAddress> = []
    /// Namespaces objects of other kinds live in; they exist even though we skip the objects.
    private(set) var skippedNamespaces: Set<String> = []

    /// - Parameter findsDuplicates: false when each document or List item is an object of its own
    ///   (stored values decoded together), not one of a set that may name each object once.
    init(findsDuplicates: Bool = true) {
        objects = DecodedObjects(findsDuplicates: findsDuplicates)
    }

    /// Room for `count` objects, when the caller knows how many the documents hold.
    mutating func reserveObjects(_ count: Int) {
        objects.reserveCapacity(count)
    }

    /// Hands the decoded objects over, leaving none, so the builder holds the only copy.
    /// The valid objects decoded so far, handed over; duplicates of them are still found.
    mutating func drainObjects() -> [RegistryObject] {
        objects.drain()
    }

    mutating func takeObjects() -> DecodedObjects {
        defer { objects = DecodedObjects(findsDuplicates: objects.findsDuplicates) }
        return objects
    }

    mutating func record(_ error: RegistryError) {
        errors.append(error)
    }

    /// Decodes one document of a file: a single object or a `List` of them.
    mutating func decode(document: ManifestNode, file: String) {
        decode(object: document, file: file, listKind: nil)
    }

    /// Decodes one item of a `List` whose items are handed over one at a time (a streamed file).
    mutating func decode(listItem node: ManifestNode, file: String, listKind: String) {
        decode(object: node, file: file, listKind: listKind)
    }

    /// Adds an object `ObjectFastPath` read (a valid object, without warnings), as decoding the
    /// item it was read from would have; `line`: the line the item starts on.
    mutating func add(read object: RegistryObject, line: Int) {
        if case .service(let draft) = object.content { claimedClusterIPs.formUnion(draft.service.clusterIPs) }
        objects.add(object, line: line)
    }

    /// Whether a document's root is a List, whose objects are its items.
    static func isList(_ node: ManifestNode) -> Bool {
        guard let kind = node["kind"]?.string else { return false }
        return kind == "List" || (kind.hasSuffix("List") && node["items"] != nil)
    }

    private mutating func decode(object node: ManifestNode, file: String, listKind: String?) {
        guard node.kind == .mapping else {
            errors.append(RegistryError(
                code: .invalidValue,
                reason: "expected a Kubernetes object (a mapping with apiVersion and kind), found \(node.typeDescription)",
                location: SourceLocation(file: file, line: node.line)
            ))
            return
        }
        let source = node.line.flatMap { locate?($0) }
        let reader = ObjectReader(file: file, objectLine: node.line, source: source)
        // Items of a typed list (`ServiceList` from the API) may leave out their own kind.
        let inferredKind = listKind.flatMap { $0.hasSuffix("List") && $0 != "List" ? String($0.dropLast(4)) : nil }
        let kind = reader.string(node["kind"], field: "kind") ?? inferredKind
        let apiVersion = reader.string(node["apiVersion"], field: "apiVersion")

        if let kind, kind == "List" || (kind.hasSuffix("List") && node["items"] != nil) {
            for item in reader.sequence(node["items"], field: "items") {
                decode(object: item, file: file, listKind: kind)
            }
            errors += reader.errors
            return
        }
        guard let kind, !kind.isEmpty else {
            reader.fail(.missingField, "required field is missing (every object needs a kind, e.g. Service)", field: "kind", node: node)
            errors += reader.errors
            return
        }
        guard let apiVersion = apiVersion ?? (listKind != nil ? Self.defaultAPIVersion(of: kind) : nil), !apiVersion.isEmpty else {
            reader.fail(.missingField, "required field is missing (e.g. apiVersion: v1)", field: "apiVersion", node: node)
            errors += reader.errors
            return
        }

        let location = SourceLocation(file: file, line: node.line)
        // FQDN slices name hosts, not addresses; DNS has nothing to serve from them.
        let isFQDNSlice = kind == "EndpointSlice" && node["addressType"]?.scalarText == EndpointAddressType.fqdn.rawValue
        guard let decoder = Self.decoder(apiVersion: apiVersion, kind: kind), !isFQDNSlice else {
            skip(node, kind: kind, apiVersion: apiVersion, location: location)
            return
        }
        guard let read = readMetadata(node, kind: kind, reader: reader) else {
            if kind == "Service" { recordClaims(node) }
            errors += reader.errors
            return
        }
        let metadata = read.metadata
        let reference = ObjectReference(kind: kind, namespace: kind == "Namespace" ? "" : metadata.namespace, name: metadata.name)
        reader.object = reference
        let content = decoder(node, metadata, reader)
        if kind == "Service" {
            // A valid Service's addresses are the ones it names; only a broken one is read again.
            if !reader.hasErrors, case .service(let draft)? = content {
                claimedClusterIPs.formUnion(draft.service.clusterIPs)
            } else {
                recordClaims(node)
            }
        }
        errors += reader.errorsInDocumentOrder
        if reader.hasErrors {
            if read.identityKnown { rejected.append(RejectedObject(reference: reference, location: location)) }
        } else if let content {
            objects.add(DecodedObject(reference: reference, location: source ?? location, content: content), line: node.line)
        }
    }

    private mutating func skip(_ node: ManifestNode, kind: String, apiVersion: String, location: SourceLocation) {
        let metadata = node["metadata"]
        let namespace = metadata?["namespace"]?.scalarText ?? ""
        let name = metadata?["name"]?.scalarText ?? metadata?["generateName"]?.scalarText ?? ""
        if !namespace.isEmpty { skippedNamespaces.insert(namespace) }
        skipped.append(SkippedObject(
            apiVersion: apiVersion,
            reference: ObjectReference(kind: kind, namespace: namespace, name: name),
            location: location
        ))
    }

    /// Reads `metadata.name` (required, in the kind's name format) and `metadata.namespace`.
    /// `identityKnown` is false when the namespace is there but not a string, so the object's
    /// namespace is a guess.
    private func readMetadata(_ node: ManifestNode, kind: String, reader: ObjectReader) -> (metadata: ObjectMetadata, identityKnown: Bool)? {
        let metadata = reader.mapping(node["metadata"], field: "metadata")
        let nameNode = metadata?["name"]
        let name = reader.requiredString(nameNode, field: "metadata.name", parent: metadata ?? node)
        let namespaceNode = metadata?["namespace"]
        let namespaceText = reader.string(namespaceNode, field: "metadata.namespace")
        let identityKnown = namespaceText != nil || namespaceNode == nil || namespaceNode?.isNull == true
        var namespace = namespaceText ?? ""
        if namespace.isEmpty { namespace = "default" }
        let labels = reader.checkStringMap(metadata?["labels"], field: "metadata.labels")
        guard let name else { return nil }
        if kind != "Namespace" {
            reader.object = ObjectReference(kind: kind, namespace: namespace, name: name)
        } else {
            reader.object = ObjectReference(kind: kind, namespace: "", name: name)
        }

        switch kindCase(kind) {
        case .service, .namespace:
            // Service names: RFC 1123 labels, as kube-apiserver's relaxed Service-name validation
            // accepts them (`1kubernetes`); they are DNS labels either way.
            reader.checkName(name, field: "metadata.name", node: nameNode, rule: NameRules.isRFC1123Label, expected: NameRules.rfc1123Expectation)
        case .other:
            reader.checkName(name, field: "metadata.name", node: nameNode, rule: NameRules.isRFC1123Subdomain, expected: NameRules.subdomainExpectation)
        }
        if kind != "Namespace" {
            reader.checkName(namespace, field: "metadata.namespace", node: namespaceNode, rule: NameRules.isRFC1123Label, expected: NameRules.rfc1123Expectation)
        }
        return (ObjectMetadata(name: name, namespace: namespace, labelsNode: labels), identityKnown)
    }

    /// Remembers the ClusterIPs a broken Service names, so even its address is never handed to
    /// another one.
    private mutating func recordClaims(_ node: ManifestNode) {
        let spec = node["spec"]
        var texts: [String] = []
        if let text = spec?["clusterIP"]?.scalarText { texts.append(text) }
        if let list = spec?["clusterIPs"], list.kind == .sequence {
            texts += list.items.compactMap(\.scalarText)
        }
        for text in texts {
            if let address = IPAddress(text) { claimedClusterIPs.insert(address) }
        }
    }

    private enum KindCase { case service, namespace, other }

    private func kindCase(_ kind: String) -> KindCase {
        switch kind {
        case "Service": return .service
        case "Namespace": return .namespace
        default: return .other
        }
    }

    private typealias Decoder = (ManifestNode, ObjectMetadata, ObjectReader) -> DecodedObject.Content?

    /// The decoder of each kind the registry reads, by group/version and kind; nil for everything
    /// else, which is skipped. A Knative `serving.knative.dev/v1 Service` is not a `v1 Service`.
    /// A switch, not a table: every object asks, and a table hashed both strings each time.
    private static func decoder(apiVersion: String, kind: String) -> Decoder? {
        switch (kind, apiVersion) {
        case ("Service", "v1"):
            return { node, metadata, reader in ServiceDecoder.decode(node, metadata: metadata, reader: reader).map { .service($0) } }
        case ("Endpoints", "v1"):
            return { node, metadata, reader in EndpointsDecoder.decode(node, metadata: metadata, reader: reader).map { .endpoints(groups: $0) } }
        case ("EndpointSlice", "discovery.k8s.io/v1"):
            return { node, metadata, reader in
                EndpointSliceDecoder.decode(node, metadata: metadata, reader: reader).map {
                    .endpointSlice(serviceName: $0.serviceName, group: $0.group)
                }
            }
        case ("Pod", "v1"):
            return { node, metadata, reader in PodDecoder.decode(node, metadata: metadata, reader: reader).map { .pod($0) } }
        case ("Namespace", "v1"):
            return { _, _, _ in .namespace }
        default:
            return nil
        }
    }

    private static func defaultAPIVersion(of kind: String) -> String? {
        switch kind {
        case "Service", "Endpoints", "Pod", "Namespace": return "v1"
        case "EndpointSlice": return "discovery.k8s.io/v1"
        default: return nil
        }
    }
}
