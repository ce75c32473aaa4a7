/// A Pod as the store and its snapshots keep it: what pod names, selectors, autopath and the env
/// command read, and nothing else. Its name and namespace are its key's (a Pod's are lower-case
/// DNS names, or it is rejected), its first address is inline (a one-address array is an allocation
/// of 64 bytes), and where it was read is left out (only a Service's place is named later). With
/// the address tables keyed by 32 bits, a million Pods' registry peaked 125 MiB lower (1205 → 1080).
struct StoredPod: Hashable, Sendable {
    var labels: [String: String]
    var containerPorts: [EndpointPort]
    var hostname: String?
    var subdomain: String?
    var phase: String?
    /// `podIPs`, primary first. The one-byte fields after it, in what its last word leaves free.
    var addresses: InlineAddresses
    var ready: Bool
    var enableServiceLinks: Bool?

    init(_ pod: Pod) {
        labels = pod.labels
        addresses = InlineAddresses(pod.podIPs)
        containerPorts = pod.containerPorts
        hostname = pod.hostname
        subdomain = pod.subdomain
        phase = pod.phase
        ready = pod.ready
        enableServiceLinks = pod.enableServiceLinks
    }

    /// The Pod under `key`.
    func pod(_ key: ObjectKey) -> Pod {
        Pod(
            name: key.name, namespace: key.namespace, labels: labels, podIPs: addresses.array, hostname: hostname, subdomain: subdomain,
            ready: ready, phase: phase, enableServiceLinks: enableServiceLinks, containerPorts: containerPorts)
    }
}
