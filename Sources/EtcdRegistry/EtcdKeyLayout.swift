import ServiceRegistry

/// Kubernetes's own key layout under a prefix (`--etcd-prefix`, `/registry` by default), so that
/// kube-apiserver (`--storage-media-type=application/json`) and other tools write keys ClusterDNS
/// reads: `services/specs/<ns>/<name>`, `endpointslices/<ns>/<name>`,
/// `services/endpoints/<ns>/<name>`, `pods/<ns>/<name>`, `namespaces/<name>`.
public struct EtcdKeyLayout: Sendable, Equatable {
    /// The prefix without a trailing slash: `/registry`.
    public let prefix: String

    public init(prefix: String = "/registry") {
        var prefix = prefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if !prefix.hasPrefix("/") { prefix = "/" + prefix }
        self.prefix = prefix
        self.watchPrefixBytes = Array((prefix + "/").utf8)
    }

    /// `watchPrefix` as bytes, for `object(at:)`.
    private let watchPrefixBytes: [UInt8]

    /// What one watch covers: every key under the prefix.
    public var watchPrefix: String { prefix + "/" }

    /// The kinds the registry reads, with the resource path of each, in Kubernetes's spelling.
    public static let kinds: [(kind: String, resource: String, namespaced: Bool)] = [
        ("Service", "services/specs", true),
        ("EndpointSlice", "endpointslices", true),
        ("Endpoints", "services/endpoints", true),
        ("Pod", "pods", true),
        ("Namespace", "namespaces", false),
    ]

    /// The key of an object; nil for a kind the registry does not read.
    public func key(kind: String, namespace: String, name: String) -> String? {
        guard let entry = Self.kinds.first(where: { $0.kind == kind }) else { return nil }
        return entry.namespaced ? "\(prefix)/\(entry.resource)/\(namespace)/\(name)" : "\(prefix)/\(entry.resource)/\(name)"
    }

    /// The prefix of every key of one kind (in one namespace, when given).
    public func kindPrefix(kind: String, namespace: String? = nil) -> String? {
        guard let entry = Self.kinds.first(where: { $0.kind == kind }) else { return nil }
        if let namespace, entry.namespaced { return "\(prefix)/\(entry.resource)/\(namespace)/" }
        return "\(prefix)/\(entry.resource)/"
    }

    /// The object a key names, or nil for a key outside the layout (another kind, another tool's).
    /// `services/specs` and `services/endpoints` are tried before any shorter resource.
    ///
    /// Read as bytes: a list asks this of every key (120k for a 50k-Service cluster), and
    /// Substring's `hasPrefix(String)` goes through Foundation's locale-aware search on Linux,
    /// a twentieth of a whole list's CPU.
    public func object(at key: String) -> ObjectReference? {
        var key = key
        return key.withUTF8 { bytes -> ObjectReference? in
            let prefix = watchPrefixBytes
            guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return nil }
            let rest = UnsafeBufferPointer(rebasing: bytes[prefix.count...])
            for (entry, head) in zip(Self.kinds, Self.resourceHeads) {
                guard rest.starts(with: head) else { continue }
                let parts = rest[head.count...].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
                func text(_ part: Slice<UnsafeBufferPointer<UInt8>>) -> String { String(decoding: part, as: UTF8.self) }
                if entry.namespaced {
                    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
                    return ObjectReference(kind: entry.kind, namespace: text(parts[0]), name: text(parts[1]))
                }
                guard parts.count == 1, !parts[0].isEmpty else { return nil }
                return ObjectReference(kind: entry.kind, namespace: "", name: text(parts[0]))
            }
            return nil
        }
    }

    /// `services/specs/`, ... in the order of `kinds`.
    private static let resourceHeads: [[UInt8]] = kinds.map { Array(($0.resource + "/").utf8) }

    /// Where ClusterDNS records which Service holds a ClusterIP it allocated, so two writers never
    /// hand out the same one. Outside Kubernetes's kinds, so readers skip it.
    public func clusterIPKey(_ address: IPAddress) -> String {
        "\(prefix)/clusterdns/clusterips/\(address)"
    }

    public var clusterIPPrefix: String { "\(prefix)/clusterdns/clusterips/" }
}
