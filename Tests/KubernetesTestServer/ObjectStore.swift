import Foundation

/// An object as the fake API server keeps it: its JSON without `kind`/`apiVersion` (as list items
/// carry it), with `metadata.resourceVersion` set to the revision of its last write.
struct StoredObject: Sendable {
    let namespace: String
    let name: String
    let resourceVersion: UInt64
    let json: Data
    let uid: String
    let creationTimestamp: String

    var key: String { namespace.isEmpty ? name : namespace + "/" + name }
}

/// A write, as watches see it.
struct StoredEvent: Sendable {
    enum Kind: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED"
    }

    let type: Kind
    let resource: ServedResource
    let object: StoredObject
}

/// A refusal the API server answers with a `Status` object.
struct APIError: Error, Sendable, CustomStringConvertible {
    let code: Int
    let reason: String
    let message: String

    static func expired(_ message: String) -> APIError { APIError(code: 410, reason: "Expired", message: message) }
    static func badRequest(_ message: String) -> APIError { APIError(code: 400, reason: "BadRequest", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(code: 404, reason: "NotFound", message: message) }

    var description: String { "\(code) \(reason): \(message)" }
    var statusJSON: Data { KubernetesJSON.status(code: code, reason: reason, message: message) }
}

/// One page of a list.
struct ListPage {
    let items: ArraySlice<StoredObject>
    let resourceVersion: UInt64
    let continueToken: String?
}

/// The objects, the global revision counter (etcd's revision: one counter for all kinds, bumped by
/// every write) and the event history watches replay from. Pure state, no I/O; the server keeps
/// it behind a lock.
struct ObjectStore {
    private(set) var revision: UInt64 = 1
    /// Watches and continue tokens from a revision older than this were compacted away: 410.
    private(set) var oldestAvailable: UInt64 = 1
    private var objects: [ServedResource: [String: StoredObject]] = [:]
    private var history: [StoredEvent] = []
    private let historyLimit: Int
    /// The sorted items of recent paginated lists, so later pages come from the first page's
    /// state as the real server reads them from etcd at the list's revision. A few, newest last.
    private var snapshots: [(id: UInt64, revision: UInt64, items: [StoredObject])] = []
    private var nextSnapshotID: UInt64 = 1
    private static let snapshotLimit = 8

    init(historyLimit: Int) {
        self.historyLimit = max(historyLimit, 1)
    }

    // MARK: Writes

    /// Creates or replaces the object named by the JSON's kind, namespace and name.
    mutating func upsert(_ object: [String: Any]) throws -> StoredEvent {
        guard let kind = object["kind"] as? String, let resource = ServedResource.of(kind: kind) else {
            throw APIError.badRequest("unsupported kind \(String(describing: object["kind"])); the fake serves \(ServedResource.all.map(\.kind))")
        }
        var metadata = object["metadata"] as? [String: Any] ?? [:]
        guard let name = metadata["name"] as? String, !name.isEmpty else {
            throw APIError.badRequest("\(kind) without metadata.name")
        }
        let namespace = resource.namespaced ? (metadata["namespace"] as? String ?? "default") : ""
        let key = namespace.isEmpty ? name : namespace + "/" + name
        let old = objects[resource]?[key]
        revision += 1
        let uid = old?.uid ?? metadata["uid"] as? String ?? UUID().uuidString.lowercased()
        let created = old?.creationTimestamp ?? metadata["creationTimestamp"] as? String ?? Date().formatted(.iso8601)
        if resource.namespaced { metadata["namespace"] = namespace } else { metadata["namespace"] = nil }
        metadata["uid"] = uid
        metadata["creationTimestamp"] = created
        metadata["resourceVersion"] = String(revision)
        var body = object
        body["kind"] = nil
        body["apiVersion"] = nil
        body["metadata"] = metadata
        let stored = StoredObject(
            namespace: namespace, name: name, resourceVersion: revision,
            json: try JSONWriter.data(body),
            uid: uid, creationTimestamp: created
        )
        objects[resource, default: [:]][key] = stored
        return record(StoredEvent(type: old == nil ? .added : .modified, resource: resource, object: stored))
    }

    /// Removes an object; the DELETED event carries its last state at the deletion's revision.
    mutating func delete(_ resource: ServedResource, namespace: String, name: String) -> StoredEvent? {
        let key = resource.namespaced ? namespace + "/" + name : name
        guard let old = objects[resource]?.removeValue(forKey: key) else { return nil }
        revision += 1
        var json = old.json
        if var body = try? JSONSerialization.jsonObject(with: old.json) as? [String: Any] {
            var metadata = body["metadata"] as? [String: Any] ?? [:]
            metadata["resourceVersion"] = String(revision)
            body["metadata"] = metadata
            json = (try? JSONWriter.data(body)) ?? json
        }
        let stored = StoredObject(
            namespace: old.namespace, name: old.name, resourceVersion: revision, json: json,
            uid: old.uid, creationTimestamp: old.creationTimestamp
        )
        return record(StoredEvent(type: .deleted, resource: resource, object: stored))
    }

    private mutating func record(_ event: StoredEvent) -> StoredEvent {
        history.append(event)
        if history.count > historyLimit {
            // Drop a tenth at a time so trimming is not paid on every write.
            let drop = history.count - historyLimit * 9 / 10
            oldestAvailable = history[drop - 1].object.resourceVersion
            history.removeFirst(drop)
        }
        return event
    }

    /// Forgets the event history and the list snapshots, as etcd's compaction does: a watch or a
    /// continue token from before the current revision is answered 410.
    mutating func compact() {
        history.removeAll()
        snapshots.removeAll()
        oldestAvailable = revision
    }

    // MARK: Reads

    func object(_ resource: ServedResource, namespace: String, name: String) -> StoredObject? {
        objects[resource]?[resource.namespaced ? namespace + "/" + name : name]
    }

    func count(_ resource: ServedResource) -> Int { objects[resource]?.count ?? 0 }

    private func sortedItems(_ resource: ServedResource, namespace: String?) -> [StoredObject] {
        let all = objects[resource]?.values ?? [:].values
        let selected = namespace.map { ns in all.filter { $0.namespace == ns } } ?? Array(all)
        return selected.sorted { $0.key < $1.key }
    }

    /// A list page. The first page of a paginated list is taken at the current revision; its
    /// continue token names the snapshot and the offset, and is refused (410) once compacted.
    mutating func list(_ resource: ServedResource, namespace: String?, limit: Int?, continueToken: String?) throws(APIError) -> ListPage {
        var items: [StoredObject]
        var listRevision: UInt64
        var snapshotID: UInt64
        var offset = 0
        if let continueToken, !continueToken.isEmpty {
            guard let token = ContinueToken(encoded: continueToken) else {
                throw APIError.badRequest("invalid continue token")
            }
            guard token.revision >= oldestAvailable, let snapshot = snapshots.first(where: { $0.id == token.snapshot }) else {
                throw APIError.expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            }
            (items, listRevision, snapshotID, offset) = (snapshot.items, snapshot.revision, snapshot.id, token.offset)
        } else {
            items = sortedItems(resource, namespace: namespace)
            listRevision = revision
            snapshotID = 0
        }
        guard let limit, limit > 0, offset + limit < items.count else {
            return ListPage(items: items[min(offset, items.count)...], resourceVersion: listRevision, continueToken: nil)
        }
        if snapshotID == 0 {
            snapshotID = nextSnapshotID
            nextSnapshotID += 1
            snapshots.append((snapshotID, listRevision, items))
            if snapshots.count > Self.snapshotLimit { snapshots.removeFirst() }
        }
        let token = ContinueToken(snapshot: snapshotID, revision: listRevision, offset: offset + limit)
        return ListPage(items: items[offset..<(offset + limit)], resourceVersion: listRevision, continueToken: token.encoded)
    }

    /// The events a watch from `resourceVersion` starts with: every current object as ADDED when
    /// it is nil or 0 (the real server's "start at most recent"/"any"), else the kept events after
    /// it; 410 when those were compacted away.
    func eventsForWatch(_ resource: ServedResource, namespace: String?, from resourceVersion: UInt64?) throws(APIError) -> [StoredEvent] {
        guard let resourceVersion, resourceVersion != 0 else {
            return sortedItems(resource, namespace: namespace).map { StoredEvent(type: .added, resource: resource, object: $0) }
        }
        guard resourceVersion >= oldestAvailable else {
            throw APIError.expired("too old resource version: \(resourceVersion) (\(oldestAvailable))")
        }
        var low = 0, high = history.count
        while low < high {
            let middle = (low + high) / 2
            if history[middle].object.resourceVersion <= resourceVersion { low = middle + 1 } else { high = middle }
        }
        return history[low...].filter { $0.resource == resource && (namespace == nil || $0.object.namespace == namespace) }
    }
}

/// The opaque `continue` value: which snapshot, where in it, and the list's revision.
struct ContinueToken {
    let snapshot: UInt64
    let revision: UInt64
    let offset: Int

    init(snapshot: UInt64, revision: UInt64, offset: Int) {
        (self.snapshot, self.revision, self.offset) = (snapshot, revision, offset)
    }

    init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 4, parts[0] == "fake1", let snapshot = UInt64(parts[1]), let revision = UInt64(parts[2]),
              let offset = Int(parts[3]), offset >= 0 else { return nil }
        (self.snapshot, self.revision, self.offset) = (snapshot, revision, offset)
    }

    var encoded: String { Data("fake1:\(snapshot):\(revision):\(offset)".utf8).base64EncodedString() }
}
