/// A `v1 Pod`, reduced to what DNS needs: its IPs, identity and readiness.
public struct Pod: Hashable, Sendable {
    public var name: String
    public var namespace: String
    public var labels: [String: String]
    /// `status.podIPs` (or `status.podIP`), primary first.
    public var podIPs: [IPAddress]
    public var hostname: String?
    public var subdomain: String?
    /// `status.phase` (Running, Pending, ...), if given.
    public var phase: String?
    /// Named container ports (`name` → port, protocol) for resolving a Service's named targetPort.
    public var containerPorts: [EndpointPort]
    public var source: SourceLocation?
    // The one-byte fields last, where they fill what `source` leaves of its last word.
    /// The `Ready` condition is `True`.
    public var ready: Bool
    /// `spec.enableServiceLinks`; nil means the API default, true.
    public var enableServiceLinks: Bool?

    public init(
        name: String,
        namespace: String = "default",
        labels: [String: String] = [:],
        podIPs: [IPAddress] = [],
        hostname: String? = nil,
        subdomain: String? = nil,
        ready: Bool = true,
        phase: String? = nil,
        enableServiceLinks: Bool? = nil,
        containerPorts: [EndpointPort] = [],
        source: SourceLocation? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.podIPs = podIPs
        self.hostname = hostname
        self.subdomain = subdomain
        self.ready = ready
        self.phase = phase
        self.enableServiceLinks = enableServiceLinks
        self.containerPorts = containerPorts
        self.source = source
    }

    public var reference: ObjectReference { ObjectReference(kind: "Pod", namespace: namespace, name: name) }
}
