/// An object of a kind the registry does not use (a Deployment, a ConfigMap, ...), remembered so
/// a whole application manifest can be fed in and the user still sees what was ignored.
public struct SkippedObject: Hashable, Sendable, CustomStringConvertible {
    public var apiVersion: String
    /// `kind`, namespace and name (namespace empty for cluster-scoped kinds we cannot tell apart).
    public var reference: ObjectReference
    public var location: SourceLocation

    public init(apiVersion: String, reference: ObjectReference, location: SourceLocation) {
        self.apiVersion = apiVersion
        self.reference = reference
        self.location = location
    }

    /// `zones/shop.yaml:40: skipped Deployment shop/web (apps/v1)`.
    public var description: String {
        "\(location): skipped \(reference) (\(apiVersion))"
    }
}
