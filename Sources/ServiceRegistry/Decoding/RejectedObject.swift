/// An object of a kind the registry reads that was left out because of errors, but whose identity
/// (kind, namespace, name) was read, so a reload can keep serving its last good version.
public struct RejectedObject: Hashable, Sendable, CustomStringConvertible {
    /// `kind`, namespace and name (namespace empty for a Namespace).
    public var reference: ObjectReference
    public var location: SourceLocation

    public init(reference: ObjectReference, location: SourceLocation) {
        self.reference = reference
        self.location = location
    }

    /// `zones/shop.yaml:40: rejected Service shop/web`.
    public var description: String {
        "\(location): rejected \(reference)"
    }
}
