import EtcdRegistry
import Foundation
import ServiceRegistry
import Yams

/// The objects of manifest files as JSON values to store, one per object (`List`s unwrapped), in
/// file order. Validation is `ManifestLoader`'s (as `check` does it); this only carries each
/// object's own text over, so what is stored is what the file says, not what DNS keeps of it.
enum ManifestObjects {
    struct Read {
        var objects: [StoredJSON] = []
        /// Objects of kinds the registry does not store: `deployment/web`.
        var skipped: [String] = []
        var errors: [String] = []
    }

    /// - Parameter files: the manifest files `ManifestLoader` read (directories expanded).
    static func read(files: [String]) -> Read {
        var read = Read()
        for path in files {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                read.errors.append("\(path): cannot be read (\(error.localizedDescription))")
                continue
            }
            let documents: [Any]
            do {
                documents = try Yams.load_all(yaml: text).compactMap { $0 }
            } catch {
                read.errors.append("\(path): \(error)")
                continue
            }
            for document in documents { add(document, file: path, to: &read) }
        }
        return read
    }

    private static func add(_ document: Any, file: String, to read: inout Read) {
        guard let object = jsonCompatible(document) as? [String: Any] else { return }
        let kind = object["kind"] as? String ?? ""
        if let items = object["items"] as? [Any], kind.hasSuffix("List") {
            let itemKind = kind == "List" ? nil : String(kind.dropLast(4))
            for item in items {
                guard var item = item as? [String: Any] else { continue }
                if item["kind"] == nil, let itemKind { item["kind"] = itemKind }
                add(item, file: file, to: &read)
            }
            return
        }
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        let name = metadata["name"] as? String ?? ""
        let namespace = kind == "Namespace" ? "" : ((metadata["namespace"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "default")
        guard EtcdKeyLayout.kinds.contains(where: { $0.kind == kind }) else {
            read.skipped.append("\(kind.lowercased())/\(name)")
            return
        }
        // An FQDN slice is valid, but serves nothing; it is stored all the same, as the API server would.
        guard let stored = StoredJSON(reference: ObjectReference(kind: kind, namespace: namespace, name: name), object: object) else {
            read.errors.append("\(file): \(kind) \(namespace)/\(name): cannot be written as JSON")
            return
        }
        read.objects.append(stored)
    }

    /// YAML's values as JSON has them: timestamps back to text, mapping keys to strings.
    static func jsonCompatible(_ value: Any) -> Any {
        switch value {
        case let date as Date:
            return ISO8601DateFormatter().string(from: date)
        case let mapping as [AnyHashable: Any]:
            var result: [String: Any] = [:]
            for (key, value) in mapping { result["\(key)"] = jsonCompatible(value) }
            return result
        case let list as [Any]:
            return list.map(jsonCompatible)
        case let data as Data:
            return data.base64EncodedString()
        default:
            return value
        }
    }
}

extension ObjectReference {
    /// kubectl's `service/web`, `endpointslice.discovery.k8s.io/web-abc`.
    var kubectlName: String {
        switch kind {
        case "EndpointSlice": return "endpointslice.discovery.k8s.io/\(name)"
        default: return "\(kind.lowercased())/\(name)"
        }
    }
}
