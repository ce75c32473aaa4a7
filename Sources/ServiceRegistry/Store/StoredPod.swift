/// A Pod as the store and its snapshots keep it: what pod names, selectors, autopath and the env
/// command read, and nothing else. Its name and namespace are its key's (a Pod's are lower-case
/// DNS names, or it is rejected), its first address is inline (a one-address array is an allocation
/// of 64 bytes), and where it was read is left out (only a Service's place is named later). With
/// the address tables keyed by 32 bits, a million Pods' registry peaked 125 MiB lower (1205 → 1080).
/// Its phase is a byte, and a hostname that is the Pod's name (a StatefulSet's Pods) shares the
/// key's string rather than keeping a copy: 96 → 80 bytes a Pod, and no string of its own for
/// half the million Pods of the large cluster.
struct StoredPod: Hashable, Sendable {
    var labels: [String: String]
    var containerPorts: [EndpointPort]
    var hostname: String?
    var subdomain: String?
    /// `podIPs`, primary first. The one-byte fields after it, in what its last word leaves free.
    var addresses: InlineAddresses
    var phase: Phase
    var ready: Bool
    var enableServiceLinks: Bool?

    /// `status.phase`: one of the five the API defines. DNS reads only whether a Pod has ended
    /// (Succeeded or Failed), so a text the API does not define is kept as Unknown.
    enum Phase: UInt8, Sendable {
        case absent, pending, running, succeeded, failed, unknown

        init(_ text: String?) {
            switch text {
            case nil: self = .absent
            case "Pending": self = .pending
            case "Running": self = .running
            case "Succeeded": self = .succeeded
            case "Failed": self = .failed
            default: self = .unknown
            }
        }

        var text: String? {
            switch self {
            case .absent: nil
            case .pending: "Pending"
            case .running: "Running"
            case .succeeded: "Succeeded"
            case .failed: "Failed"
            case .unknown: "Unknown"
            }
        }
    }

    /// `pod` as kept under `key`.
    init(_ pod: Pod, key: ObjectKey) {
        labels = pod.labels
        addresses = InlineAddresses(pod.podIPs)
        containerPorts = pod.containerPorts
        hostname = pod.hostname.map { $0 == key.name ? key.name : $0 }
        subdomain = pod.subdomain
        phase = Phase(pod.phase)
        ready = pod.ready
        enableServiceLinks = pod.enableServiceLinks
    }

    /// The Pod under `key`.
    func pod(_ key: ObjectKey) -> Pod {
        Pod(
            name: key.name, namespace: key.namespace, labels: labels, podIPs: addresses.array, hostname: hostname, subdomain: subdomain,
            ready: ready, phase: phase.text, enableServiceLinks: enableServiceLinks, containerPorts: containerPorts)
    }
}
