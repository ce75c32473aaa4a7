import Foundation

/// The bytes the fake API server sends: lists, watch event lines, Status objects and the discovery
/// documents kubectl reads before it lists anything. Objects are stored as JSON bytes, so lists
/// and events are spliced together rather than re-encoded.
enum KubernetesJSON {
    /// `{"kind":…,"apiVersion":…,` followed by the stored object without its opening brace.
    static func withKind(_ resource: ServedResource, _ json: Data) -> Data {
        var out = Data("{\"kind\":\"\(resource.kind)\",\"apiVersion\":\"\(resource.apiVersion)\"".utf8)
        let rest = json.dropFirst()
        if rest.first(where: { !$0.isWhitespace }) != UInt8(ascii: "}") { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: rest)
        return out
    }

    static func list(_ resource: ServedResource, _ page: ListPage) -> Data {
        var metadata = "\"resourceVersion\":\"\(page.resourceVersion)\""
        if let token = page.continueToken { metadata += ",\"continue\":\"\(token)\"" }
        var out = Data("{\"kind\":\"\(resource.kind)List\",\"apiVersion\":\"\(resource.apiVersion)\",\"metadata\":{\(metadata)},\"items\":[".utf8)
        out.reserveCapacity(page.items.reduce(out.count + 2) { $0 + $1.json.count + 1 })
        var first = true
        for item in page.items {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(item.json)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    static func eventLine(_ event: StoredEvent) -> Data {
        var out = Data("{\"type\":\"\(event.type.rawValue)\",\"object\":".utf8)
        out.append(withKind(event.resource, event.object.json))
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    /// A BOOKMARK carries only kind, apiVersion and metadata.resourceVersion.
    static func bookmarkLine(_ resource: ServedResource, revision: UInt64) -> Data {
        Data("{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"\(resource.kind)\",\"apiVersion\":\"\(resource.apiVersion)\",\"metadata\":{\"resourceVersion\":\"\(revision)\"}}}\n".utf8)
    }

    static func errorLine(_ error: APIError) -> Data {
        var out = Data("{\"type\":\"ERROR\",\"object\":".utf8)
        out.append(error.statusJSON)
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    static func status(code: Int, reason: String, message: String) -> Data {
        encode([
            "kind": "Status", "apiVersion": "v1", "metadata": [String: Any](), "status": "Failure",
            "message": message, "reason": reason, "code": code,
        ])
    }

    // MARK: Discovery

    /// The minor version decides which kubectl a version dispatcher runs (test-peers.md).
    static let version = encode([
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-clusterdns-fake", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc",
        "platform": "linux/amd64",
    ])

    static func coreVersions(port: Int) -> Data {
        encode([
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:\(port)"]],
        ])
    }

    private static var groups: [String] {
        var seen: [String] = []
        for resource in ServedResource.all where !resource.group.isEmpty && !seen.contains(resource.group) { seen.append(resource.group) }
        return seen
    }

    private static func groupDocument(_ name: String) -> [String: Any] {
        let version: [String: Any] = ["groupVersion": "\(name)/v1", "version": "v1"]
        return ["name": name, "versions": [version], "preferredVersion": version]
    }

    static let groupList = encode(["kind": "APIGroupList", "apiVersion": "v1", "groups": groups.map(groupDocument)])

    /// `/apis/<group>`, or nil for a group the fake does not serve.
    static func group(named name: String) -> Data? {
        guard groups.contains(name) else { return nil }
        var document = groupDocument(name)
        document["kind"] = "APIGroup"
        document["apiVersion"] = "v1"
        return encode(document)
    }

    /// `/api/v1` or `/apis/<group>/v1`: the resources with the verbs kubectl checks for get and watch.
    static func resourceList(group: String) -> Data? {
        let resources = ServedResource.all.filter { $0.group == group }
        guard !resources.isEmpty else { return nil }
        return encode([
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group.isEmpty ? "v1" : "\(group)/v1",
            "resources": resources.map { resource -> [String: Any] in
                [
                    "name": resource.plural, "singularName": resource.kind.lowercased(), "namespaced": resource.namespaced,
                    "kind": resource.kind, "verbs": ["get", "list", "watch"], "shortNames": resource.shortNames,
                ]
            },
        ])
    }

    private static func encode(_ object: [String: Any]) -> Data {
        // Only called with literal documents above, which always serialize.
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }
}

extension UInt8 {
    fileprivate var isWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}
