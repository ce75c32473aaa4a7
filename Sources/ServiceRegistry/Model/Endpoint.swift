/// The address family of an EndpointSlice (`addressType`).
public enum EndpointAddressType: String, Hashable, Sendable {
    case ipv4 = "IPv4"
    case ipv6 = "IPv6"
    case fqdn = "FQDN"
}

/// One backend of a Service: an EndpointSlice endpoint, a legacy Endpoints address,
/// or a ready Pod picked by the Service's selector.
///
/// Only what DNS answers from is kept, as CoreDNS keeps only the endpoint fields it reads: an
/// endpoint's `targetRef`, `nodeName` and `zone` are checked when read and then dropped. They were
/// about 150 of an endpoint's 240 bytes (the target's name a string of its own), which at a
/// million endpoints is 150 MB answering nothing. Its addresses (nearly always one) are inline.
public struct Endpoint: Hashable, Sendable {
    /// `hostname` (from the slice, or from a Pod whose subdomain names the Service).
    public var hostname: String?
    /// The addresses, iterated without making an array. The one-byte fields after them, in what
    /// their last word leaves free.
    public var addressList: InlineAddresses
    /// `conditions.ready`; an absent condition counts as ready, as the API says.
    public var ready: Bool
    public var serving: Bool?
    public var terminating: Bool?

    public init(
        addresses: [IPAddress],
        hostname: String? = nil,
        ready: Bool = true,
        serving: Bool? = nil,
        terminating: Bool? = nil
    ) {
        self.addressList = InlineAddresses(addresses)
        self.hostname = hostname
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
    }

    /// The addresses as an array (made on each call; `addressList` iterates without one).
    public var addresses: [IPAddress] {
        get { addressList.array }
        set { addressList = InlineAddresses(newValue) }
    }
}

/// A port an endpoint group serves (`ports[]` of a slice, or of an Endpoints subset).
public struct EndpointPort: Hashable, Sendable {
    public var name: String
    public var `protocol`: PortProtocol
    public var port: Int

    public init(name: String = "", protocol: PortProtocol = .tcp, port: Int) {
        self.name = name
        self.protocol = `protocol`
        self.port = port
    }
}

/// Where an endpoint group came from; the first source present for a Service wins, in this order.
public enum EndpointOrigin: String, Hashable, Sendable {
    case endpointSlice = "EndpointSlice"
    case endpoints = "Endpoints"
    case selector = "selector"
}

/// A set of endpoints that share one port list: one EndpointSlice, one Endpoints subset,
/// or the Pods a selector picks. DNS builds SRV records as endpoints × ports within a group.
public struct EndpointGroup: Hashable, Sendable {
    public var origin: EndpointOrigin
    /// The object it came from (`EndpointSlice shop/web-abc12`); for selector groups, the Service.
    public var object: ObjectReference
    public var addressType: EndpointAddressType?
    public var endpoints: [Endpoint]
    public var ports: [EndpointPort]
    public var source: SourceLocation?

    public init(
        origin: EndpointOrigin,
        object: ObjectReference,
        addressType: EndpointAddressType? = nil,
        endpoints: [Endpoint],
        ports: [EndpointPort],
        source: SourceLocation? = nil
    ) {
        self.origin = origin
        self.object = object
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
        self.source = source
    }
}
