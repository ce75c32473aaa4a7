/// The kinds of Service the API server knows; they decide which DNS records a Service gets.
public enum ServiceType: String, Hashable, Sendable, CaseIterable {
    case clusterIP = "ClusterIP"
    case nodePort = "NodePort"
    case loadBalancer = "LoadBalancer"
    case externalName = "ExternalName"
}

/// Transport protocol of a port; an absent protocol means TCP, as in the API.
public enum PortProtocol: String, Hashable, Sendable, CaseIterable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"

    /// The lower-case form used in SRV names (`_tcp`) and URLs (`tcp://`).
    public var lowercased: String { rawValue.lowercased() }
}

/// A Service port (`spec.ports[]`).
public struct ServicePort: Hashable, Sendable {
    /// Empty for an unnamed port (unnamed ports get no `_name._proto` SRV name).
    public var name: String
    public var `protocol`: PortProtocol
    public var port: Int
    /// `targetPort`: a number, a container port name, or nil (defaults to `port`).
    public var targetPort: TargetPort?
    public var nodePort: Int?

    public init(name: String = "", protocol: PortProtocol = .tcp, port: Int, targetPort: TargetPort? = nil, nodePort: Int? = nil) {
        self.name = name
        self.protocol = `protocol`
        self.port = port
        self.targetPort = targetPort
        self.nodePort = nodePort
    }
}

/// `targetPort` is an int-or-string in the API.
public enum TargetPort: Hashable, Sendable {
    case number(Int)
    case name(String)
}

/// One `status.loadBalancer.ingress[]` entry: an IP or a host name.
public enum LoadBalancerIngress: Hashable, Sendable {
    case ip(IPAddress)
    case hostname(String)
}

/// A `v1 Service`, reduced to what DNS and the kubelet's environment variables need.
public struct Service: Hashable, Sendable {
    public var name: String
    public var namespace: String
    /// `spec.clusterIPs` (or `spec.clusterIP`), primary first. Empty for headless and ExternalName
    /// services. After the snapshot is built, a non-headless service without one has an allocated IP.
    public var clusterIPs: [IPAddress]
    /// `spec.externalName` for ExternalName services, without a trailing dot.
    public var externalName: String?
    public var ports: [ServicePort]
    /// `spec.selector`; nil or empty means the endpoints are managed by hand.
    public var selector: [String: String]?
    public var externalIPs: [IPAddress]
    public var loadBalancerIngress: [LoadBalancerIngress]
    public var source: SourceLocation?
    // The one-byte fields last, where they fill what `source` leaves of its last word: a Service is
    // kept per Service of the cluster.
    public var type: ServiceType
    /// `clusterIP: None`.
    public var isHeadless: Bool
    /// True when ClusterDNS allocated `clusterIPs` from the service CIDR because the manifest had none.
    public var clusterIPAllocated: Bool
    public var publishNotReadyAddresses: Bool

    public init(
        name: String,
        namespace: String = "default",
        type: ServiceType = .clusterIP,
        clusterIPs: [IPAddress] = [],
        isHeadless: Bool = false,
        clusterIPAllocated: Bool = false,
        externalName: String? = nil,
        ports: [ServicePort] = [],
        selector: [String: String]? = nil,
        publishNotReadyAddresses: Bool = false,
        externalIPs: [IPAddress] = [],
        loadBalancerIngress: [LoadBalancerIngress] = [],
        source: SourceLocation? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.type = type
        self.clusterIPs = clusterIPs
        self.isHeadless = isHeadless
        self.clusterIPAllocated = clusterIPAllocated
        self.externalName = externalName
        self.ports = ports
        self.selector = selector
        self.publishNotReadyAddresses = publishNotReadyAddresses
        self.externalIPs = externalIPs
        self.loadBalancerIngress = loadBalancerIngress
        self.source = source
    }

    public var reference: ObjectReference { ObjectReference(kind: "Service", namespace: namespace, name: name) }

    /// The primary ClusterIP, as the kubelet uses it; nil for headless, ExternalName or unallocated.
    public var primaryClusterIP: IPAddress? { isHeadless || type == .externalName ? nil : clusterIPs.first }
}
