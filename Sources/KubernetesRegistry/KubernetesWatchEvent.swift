import Foundation
import ServiceRegistry

/// One line of a watch stream: `{"type":"ADDED","object":{...}}`.
public enum KubernetesWatchEvent: Sendable {
    /// ADDED or MODIFIED: the object's JSON (kind and apiVersion included, as watch events carry
    /// them), and its resourceVersion.
    case upsert(json: String, reference: ObjectReference, resourceVersion: String)
    /// DELETED: which object, and the version of its deletion.
    case delete(ObjectReference, resourceVersion: String)
    /// BOOKMARK: nothing changed up to this version.
    case bookmark(resourceVersion: String)

    /// Nil for a blank line; throws `.expired` for the ERROR event of a too old version (410).
    init?(line: Data, resource: KubernetesResource) throws(KubernetesError) {
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return nil }
        guard let event = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any], let type = event["type"] as? String,
            let object = event["object"] as? [String: Any]
        else {
            throw KubernetesError(.malformedResponse, "watching \(resource): not a watch event: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        let version = metadata["resourceVersion"] as? String ?? ""
        switch type {
        case "BOOKMARK":
            self = .bookmark(resourceVersion: version)
        case "ERROR":
            let code = object["code"] as? Int ?? 0
            let message = object["message"] as? String ?? "no message"
            throw KubernetesError(code == 410 ? .expired : .rejected, "watching \(resource): \(message) (code \(code))")
        case "ADDED", "MODIFIED", "DELETED":
            let reference = ObjectReference(
                kind: object["kind"] as? String ?? resource.kind, namespace: metadata["namespace"] as? String ?? "",
                name: metadata["name"] as? String ?? "")
            if type == "DELETED" {
                self = .delete(reference, resourceVersion: version)
            } else {
                var complete = object
                if complete["kind"] == nil { complete["kind"] = resource.kind }
                if complete["apiVersion"] == nil { complete["apiVersion"] = resource.apiVersion }
                guard let data = try? JSONSerialization.data(withJSONObject: complete) else {
                    throw KubernetesError(.malformedResponse, "watching \(resource): the object of an event cannot be read")
                }
                self = .upsert(json: String(decoding: data, as: UTF8.self), reference: reference, resourceVersion: version)
            }
        default:
            throw KubernetesError(.malformedResponse, "watching \(resource): unknown event type \(type)")
        }
    }

    var resourceVersion: String {
        switch self {
        case .upsert(_, _, let version), .delete(_, let version), .bookmark(let version): return version
        }
    }
}
