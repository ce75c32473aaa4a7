/// What one manifest file holds once decoded: its valid objects (the first of two with the same
/// identity), the objects of other kinds, the objects rejected for errors, and the problems.
struct DecodedFile: Sendable {
    var path: String
    var objects: [RegistryObject] = []
    var skipped: [SkippedObject] = []
    /// Objects read far enough to know who they are, then left out for errors: a reload keeps
    /// their last good version.
    var rejected: [RejectedObject] = []
    /// ClusterIPs named by Services that were rejected: allocation must not hand them out, since
    /// the Service will most likely be fixed with that address.
    var reservedAddresses: Set<IPAddress> = []
    /// Errors and warnings, in the order found.
    var errors: [RegistryError] = []
    /// The file could not be read, or is not YAML/JSON from some point on: what it held before is
    /// kept whole, since a half-written or broken file says nothing about what was meant.
    var isBroken = false

    init(_ file: ManifestFile) {
        path = file.path
        switch file.contents {
        case .failure(let failure):
            errors.append(RegistryError(code: .unreadableFile, reason: failure.reason, location: SourceLocation(file: file.path)))
            isBroken = true
        case .success(let text):
            let (documents, syntaxErrors) = ManifestParser.parse(text: text, file: file.path)
            var decoder = ObjectDecoder()
            for document in documents { decoder.decode(document: document, file: file.path) }
            let decoded = decoder.takeObjects()
            objects = decoded.objects
            skipped = decoder.skipped
            rejected = decoder.rejected
            var named = decoder.claimedClusterIPs
            for object in objects {
                if case .service(let draft) = object.content { named.subtract(draft.service.clusterIPs) }
            }
            reservedAddresses = named
            errors = decoder.errors + syntaxErrors + decoded.duplicateErrors
            isBroken = !syntaxErrors.isEmpty
        }
    }

    /// Everything the file makes exist: its objects, and those of other kinds for their namespaces.
    var allObjects: [RegistryObject] {
        objects + skipped.map(RegistryObject.init(skipped:))
    }
}

extension RegistryObject {
    /// An object of a kind the registry skips, kept for the namespace it makes exist. Its key
    /// carries the API group, so a Knative `Service` is not mistaken for a `v1 Service`.
    init(skipped: SkippedObject) {
        let reference = ObjectReference(
            kind: "\(skipped.reference.kind) (\(skipped.apiVersion))", namespace: skipped.reference.namespace, name: skipped.reference.name)
        self.init(reference: reference, location: skipped.location, content: .other)
    }
}
