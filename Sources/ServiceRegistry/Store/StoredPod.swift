/// A Pod as the store and its snapshots keep it: what pod names, selectors, autopath and the env
/// command read, and nothing else. Its name and namespace are its key's (a Pod's are lower-case
/// DNS names, or it is rejected), its first address is inline (a one-address array is an allocation
/// of 64 bytes), and where it was read is left out (only a Service's place is named later). With
/// the address tables keyed by 32 bits, a million Pods' registry peaked 125 MiB lower (1205 → 1080).
struct StoredPod: Hashable, Sendable {
    var labels: [String: String]
    /// `podIPs` after the first.
    var otherAddresses: [IPAddress]
    var containerPorts: [EndpointPort]
    var hostname: String?
    var subdomain: String?
    var phase: String?
    var firstAddress: IPAddress?
    var ready: Bool
    var enableServiceLinks: Bool?

    init(_ pod: Pod) {
        labels = pod.labels
        firstAddress = pod.podIPs.first
        otherAddresses = pod.podIPs.count > 1 ? Array(pod.podIPs.dropFirst()) : []
        containerPorts = pod.containerPorts
        hostname = pod.hostname
        subdomain = pod.subdomain
        phase = pod.phase
        ready = pod.ready
        enableServiceLinks = pod.enableServiceLinks
    }

    /// Primary first, as `Pod.podIPs`, without making an array.
    var addresses: Addresses { Addresses(first: firstAddress, others: otherAddresses) }

    struct Addresses: Sequence {
        let first: IPAddress?
        let others: [IPAddress]

        func makeIterator() -> Iterator { Iterator(first: first, others: others.makeIterator()) }

        struct Iterator: IteratorProtocol {
            var first: IPAddress?
            var others: IndexingIterator<[IPAddress]>

            mutating func next() -> IPAddress? {
                if let address = first {
                    first = nil
                    return address
                }
                return others.next()
            }
        }
    }

    /// The Pod under `key`.
    func pod(_ key: ObjectKey) -> Pod {
        Pod(
            name: key.name, namespace: key.namespace, labels: labels, podIPs: Array(addresses), hostname: hostname, subdomain: subdomain,
            ready: ready, phase: phase, enableServiceLinks: enableServiceLinks, containerPorts: containerPorts)
    }
}
