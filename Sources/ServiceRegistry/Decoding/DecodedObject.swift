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
