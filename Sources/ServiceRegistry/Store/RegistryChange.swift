/// What one applied batch of events changed, for the zones to patch exactly those names.
public struct RegistryChange: Sendable {
    /// Services derived again: created, changed or deleted, or whose endpoints, ClusterIP ownership
    /// or selected Pods changed. The zones compare each one's names before and after.
    public var services: Set<ObjectKey> = []
    /// Pod addresses (with their namespace) that appeared or went away: the pod names at them.
    public var podAddresses: Set<PodAddress> = []
    /// A namespace appeared or went away.
    public var namespaces = false
    /// What the batch deleted, for the log: a file emptied by mistake must stand out.
    public var removed = RegistryRemoval()

    public init() {}

    public var isEmpty: Bool { services.isEmpty && podAddresses.isEmpty && !namespaces }
}

/// A pod's address in its namespace: what `<a-b-c-d>.<ns>.pod.<zone>` names.
public struct PodAddress: Hashable, Sendable {
    public var namespace: String
    public var address: IPAddress

    public init(namespace: some StringProtocol, address: IPAddress) {
        self.namespace = ObjectKey.folded(namespace)
        self.address = address
    }
}

/// A new snapshot and what changed since the one before it.
public struct RegistryUpdate: Sendable {
    public var snapshot: RegistrySnapshot
    public var change: RegistryChange
    /// When the source first saw the change (a file event, a watch message): the start of the
    /// DNS programming latency, which ends when the update answers.
    public var seen: ContinuousClock.Instant

    public init(snapshot: RegistrySnapshot, change: RegistryChange, seen: ContinuousClock.Instant = .now) {
        self.snapshot = snapshot
        self.change = change
        self.seen = seen
    }
}

/// Counts of objects a change removed, as the warning line says them.
public struct RegistryRemoval: Hashable, Sendable, CustomStringConvertible {
    public var services = 0
    public var endpoints = 0
    public var pods = 0
    public var namespaces = 0

    public var isEmpty: Bool { services == 0 && endpoints == 0 && pods == 0 && namespaces == 0 }

    /// `1 service, 2 endpoints, 0 pods, 1 namespace`.
    public var description: String {
        [(services, "service"), (endpoints, "endpoint"), (pods, "pod"), (namespaces, "namespace")]
            .map { count, word in "\(count) \(word)\(count == 1 ? "" : "s")" }
            .joined(separator: ", ")
    }
}
