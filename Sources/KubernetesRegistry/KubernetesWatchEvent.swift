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
        if let event = Self.takenApartInPlace(line, resource: resource) {
            self = event
            return
        }
        self = try Self.readThroughFoundation(line, resource: resource)
    }

    /// The event taken apart where it lies (`JSONMembers`): the object's own text is handed on,
    /// with its kind and apiVersion put in front when the event left them out. Nil leaves the
    /// event to `readThroughFoundation`: an ERROR event, an escape in a name or version, or
    /// anything else unusual.
    static func takenApartInPlace(_ line: Data, resource: KubernetesResource) -> KubernetesWatchEvent? {
        line.withUnsafeBytes { raw -> KubernetesWatchEvent? in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let event = JSONMembers(bytes), let type = event.plainString("type"), let objectRange = event.value("object"),
                let object = JSONMembers(bytes, range: objectRange)
            else { return nil }
            let metadata = object.value("metadata").map { JSONMembers(bytes, range: $0) }
            // Present but not an object: as Foundation reads it, or not at all.
            if case .some(nil) = metadata { return nil }
            /// A string of the metadata or the object: "" or `absent` when missing, nil (give up)
            /// when present but not a plain string.
            func text(_ members: JSONMembers?, _ key: StaticString, absent: String = "") -> String? {
                guard let members, members.value(key) != nil else { return absent }
                return members.plainString(key)
            }
            guard let version = text(metadata ?? nil, "resourceVersion") else { return nil }
            switch type {
            case "BOOKMARK":
                return .bookmark(resourceVersion: version)
            case "ADDED", "MODIFIED", "DELETED":
                guard let kind = text(object, "kind", absent: resource.kind), let namespace = text(metadata ?? nil, "namespace"),
                    let name = text(metadata ?? nil, "name")
                else { return nil }
                let reference = ObjectReference(kind: kind, namespace: namespace, name: name)
                if type == "DELETED" { return .delete(reference, resourceVersion: version) }
                var json = "{"
                if object.value("kind") == nil { json += #""kind":"\#(resource.kind)","# }
                if object.value("apiVersion") == nil { json += #""apiVersion":"\#(resource.apiVersion)","# }
                let rest = bytes[(objectRange.lowerBound + 1)..<objectRange.upperBound]
                if json.utf8.count > 1 && object.members.isEmpty { json.removeLast() }
                json += String(decoding: rest, as: UTF8.self)
                return .upsert(json: json, reference: reference, resourceVersion: version)
            default:
                return nil
            }
        }
    }

    /// The event read as Foundation's JSON values, the object written back as JSON for the decoder.
    static func readThroughFoundation(_ line: Data, resource: KubernetesResource) throws(KubernetesError) -> KubernetesWatchEvent {
        guard let event = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any], let type = event["type"] as? String,
            let object = event["object"] as? [String: Any]
        else {
            throw KubernetesError(.malformedResponse, "watching \(resource): not a watch event: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        let version = metadata["resourceVersion"] as? String ?? ""
        switch type {
        case "BOOKMARK":
            return .bookmark(resourceVersion: version)
        case "ERROR":
            let code = object["code"] as? Int ?? 0
            let message = object["message"] as? String ?? "no message"
            throw KubernetesError(code == 410 ? .expired : .rejected, "watching \(resource): \(message) (code \(code))")
        case "ADDED", "MODIFIED", "DELETED":
            let reference = ObjectReference(
                kind: object["kind"] as? String ?? resource.kind, namespace: metadata["namespace"] as? String ?? "",
                name: metadata["name"] as? String ?? "")
            if type == "DELETED" {
                return .delete(reference, resourceVersion: version)
            } else {
                var complete = object
                if complete["kind"] == nil { complete["kind"] = resource.kind }
                if complete["apiVersion"] == nil { complete["apiVersion"] = resource.apiVersion }
                guard let data = try? JSONSerialization.data(withJSONObject: complete) else {
                    throw KubernetesError(.malformedResponse, "watching \(resource): the object of an event cannot be read")
                }
                return .upsert(json: String(decoding: data, as: UTF8.self), reference: reference, resourceVersion: version)
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
