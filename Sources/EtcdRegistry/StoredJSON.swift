import Foundation
import ServiceRegistry

/// An object as ClusterDNS stores it in etcd: JSON with sorted keys and without
/// `metadata.resourceVersion` (etcd's mod_revision is the version, as kube-apiserver has it), so
/// two writes of the same object are the same bytes and `apply` can say "unchanged".
public struct StoredJSON: Sendable, Equatable {
    public let reference: ObjectReference
    public private(set) var bytes: [UInt8]

    /// Canonical form of a stored value; nil when it is not a JSON object.
    public init?(reference: ObjectReference, bytes: [UInt8]) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return nil }
        self.init(reference: reference, object: object)
    }

    /// Canonical form of a decoded object (from YAML or JSON); nil when it cannot be written as JSON.
    public init?(reference: ObjectReference, object: [String: Any]) {
        var object = object
        if var metadata = object["metadata"] as? [String: Any] {
            metadata["resourceVersion"] = nil
            if reference.kind != "Namespace", (metadata["namespace"] as? String)?.isEmpty ?? true {
                metadata["namespace"] = reference.namespace
            }
            object["metadata"] = metadata
        }
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        self.reference = reference
        self.bytes = [UInt8](data)
    }

    /// The value as a dictionary.
    public var object: [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]) ?? [:]
    }

    private var spec: [String: Any] { object["spec"] as? [String: Any] ?? [:] }

    /// `spec.clusterIP` when it names an address (not empty, not `None`).
    public var clusterIP: String? {
        guard let text = spec["clusterIP"] as? String, !text.isEmpty, text != "None" else { return nil }
        return text
    }

    /// A Service that needs a ClusterIP allocated: not ExternalName, not headless, none given.
    public var wantsClusterIP: Bool {
        guard reference.kind == "Service", (spec["type"] as? String) != "ExternalName" else { return false }
        let given = (spec["clusterIP"] as? String) ?? ""
        let list = (spec["clusterIPs"] as? [String]) ?? []
        return given.isEmpty && list.isEmpty
    }

    /// `metadata.creationTimestamp` (RFC 3339), when set.
    public var creationTimestamp: String? {
        (object["metadata"] as? [String: Any])?["creationTimestamp"] as? String
    }

    /// Sets `metadata.creationTimestamp`, which kube-apiserver sets when it creates an object
    /// (whatever the manifest says: `kubectl create --dry-run -o yaml` writes `null`) and keeps on
    /// every update; `registry get` shows the AGE it gives.
    public mutating func setCreationTimestamp(_ timestamp: String) {
        var object = object
        var metadata = object["metadata"] as? [String: Any] ?? [:]
        metadata["creationTimestamp"] = timestamp
        object["metadata"] = metadata
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            bytes = [UInt8](data)
        }
    }

    /// RFC 3339 in UTC to the second, as the API server writes timestamps.
    public static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// Sets `spec.clusterIP` and `spec.clusterIPs` to one address.
    public mutating func setClusterIP(_ address: String) {
        var object = object
        var spec = self.spec
        spec["clusterIP"] = address
        spec["clusterIPs"] = [address]
        object["spec"] = spec
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            bytes = [UInt8](data)
        }
    }
}
