/// Decodes one object stored as JSON outside any file: a value in etcd, as kube-apiserver writes it
/// with `--storage-media-type=application/json`. The same parser and per-kind validation as
/// manifests, so an object is accepted from etcd exactly when `clusterdns check` accepts it.
public enum StoredObjectDecoding {
    /// What one stored value turned out to be.
    public enum Outcome: Sendable {
        /// A valid object (warnings, if any, are in `warnings`).
        case object(RegistryObject, warnings: [RegistryError])
        /// A valid object of a kind or shape DNS does not read (an FQDN EndpointSlice): it holds nothing.
        case ignored
        /// The value cannot be used; the errors say why.
        case rejected([RegistryError])
    }

    /// - Parameters:
    ///   - json: the value's text.
    ///   - source: where it is stored (the etcd key), used as the "file" of every location and error.
    public static func decode(json: String, source: String) -> Outcome {
        let document: ManifestNode
        switch JSONComposer.document(in: json) {
        case .success(let node):
            document = node
        case .failure(let error):
            return .rejected([ManifestParser.jsonSyntaxError(error, file: source)])
        }
        guard !document.isNull else {
            return .rejected([RegistryError(code: .invalidValue, reason: "the value is null, not an object", location: SourceLocation(file: source))])
        }
        var decoder = ObjectDecoder()
        decoder.decode(document: document, file: source)
        let hard = decoder.errors.filter { !$0.isWarning }
        if !hard.isEmpty { return .rejected(decoder.errors) }
        let objects = decoder.takeObjects().objects
        guard objects.count <= 1 else {
            return .rejected([RegistryError(code: .invalidValue, reason: "holds \(objects.count) objects (a List?); a stored value is one object", location: SourceLocation(file: source))])
        }
        guard let object = objects.first else { return .ignored }
        return .object(object, warnings: decoder.errors)
    }
}
