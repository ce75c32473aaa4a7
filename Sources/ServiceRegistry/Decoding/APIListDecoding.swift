/// Decodes one page of a Kubernetes API list (`GET /api/v1/services?limit=500`): a typed List
/// (`ServiceList`) whose items carry no kind or apiVersion, with the list's resourceVersion and
/// continue token. The same parser and per-object validation as manifests and etcd values, so the
/// API source accepts exactly what `clusterdns check` accepts; a bad item is left out with its
/// errors, and the page's other items are kept.
public enum APIListDecoding {
    public struct Page: Sendable {
        /// The valid items.
        public var objects: [RegistryObject]
        /// Every error and warning, each naming its item where the item has a name.
        public var errors: [RegistryError]
        /// The items left out for errors, where they could be named: their last good versions stay.
        public var rejected: [ObjectReference]
        /// `metadata.resourceVersion`: where a watch of the resource starts (from the first page).
        public var resourceVersion: String?
        /// `metadata.continue`: the token of the next page; nil or empty on the last one.
        public var continueToken: String?
    }

    /// - Parameters:
    ///   - json: the response body.
    ///   - source: what errors name as their "file" (the resource's path).
    public static func decode(json: String, source: String) -> Result<Page, RegistryError> {
        let document: ManifestNode
        switch JSONComposer.document(in: json) {
        case .success(let node):
            document = node
        case .failure(let error):
            return .failure(ManifestParser.jsonSyntaxError(error, file: source))
        }
        guard let kind = document["kind"]?.string, kind.hasSuffix("List"), document["items"] != nil else {
            return .failure(RegistryError(code: .invalidValue, reason: "the response is not a list (no kind ...List with items)", location: SourceLocation(file: source)))
        }
        let metadata = document["metadata"]
        var decoder = ObjectDecoder()
        decoder.decode(document: document, file: source)
        let errors = decoder.errors + decoder.objects.duplicateErrors
        let objects = decoder.takeObjects().objects
        return .success(Page(
            objects: objects, errors: errors, rejected: errors.filter { !$0.isWarning }.compactMap(\.object),
            resourceVersion: metadata?["resourceVersion"]?.string, continueToken: metadata?["continue"]?.string))
    }
}
