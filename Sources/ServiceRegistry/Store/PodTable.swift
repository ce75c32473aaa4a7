import HashTreeCollections

/// The Pods by namespace, then by name: a persistent table the store changes in place and each
/// snapshot shares. A namespace's Pods are a table of their own because that is what a Service's
/// selector walks: the separate index of Pod names by namespace this replaces held every name a
/// second time (28 MB at a million Pods), and each entry here is keyed by the name alone. A
/// namespace's table is sorted runs (`SortedRuns`): in a hash trie a Pod took 1.6 times its size.
struct PodTable: Sendable {
    private var namespaces = TreeDictionary<String, SortedRuns<String, StoredPod>>()
    /// Pods held.
    private(set) var count = 0

    /// The Pod under `key` (namespace and name lower case, as `ObjectKey` folds them).
    subscript(key: ObjectKey) -> StoredPod? {
        get { namespaces[key.namespace]?[key.name] }
        set {
            // In place: the namespace's table is changed where it lies, not copied out and back.
            let delta = namespaces.updateValue(forKey: key.namespace) { pods -> Int in
                var table = pods ?? SortedRuns()
                pods = nil  // `table` is then the only reference, and changes without a copy.
                let old = table.updateValue(forKey: key.name) { held in
                    defer { held = newValue }
                    return held
                }
                pods = table.isEmpty ? nil : table
                return (newValue == nil ? 0 : 1) - (old == nil ? 0 : 1)
            }
            count += delta
        }
    }

    /// The Pods of one namespace (lower case), sorted by name.
    func pods(inNamespace namespace: String) -> [Pod] {
        guard let pods = namespaces[namespace] else { return [] }
        var result: [Pod] = []
        result.reserveCapacity(pods.count)
        pods.forEach { result.append($0.value.pod(ObjectKey(namespace: namespace, name: $0.key))) }
        return result
    }

    /// Every Pod's key, in no particular order.
    var keys: [ObjectKey] {
        namespaces.flatMap { namespace, pods in pods.keys.map { ObjectKey(namespace: namespace, name: $0) } }
    }

    /// Calls `body` with every Pod, sorted by namespace, then name.
    func forEachSorted(_ body: (ObjectKey, StoredPod) -> Void) {
        for (namespace, pods) in namespaces.sorted(by: { $0.key < $1.key }) {
            pods.forEach { body(ObjectKey(namespace: namespace, name: $0.key), $0.value) }
        }
    }
}
