import HashTreeCollections

/// The Pods by namespace, then by name: a persistent table the store changes in place and each
/// snapshot shares. A namespace's Pods are a table of their own because that is what a Service's
/// selector walks: the separate index of Pod names by namespace this replaces held every name a
/// second time (28 MB at a million Pods), and each entry here is keyed by the name alone.
struct PodTable: Sendable {
    private var namespaces = TreeDictionary<String, TreeDictionary<String, StoredPod>>()
    /// Pods held.
    private(set) var count = 0

    /// The Pod under `key` (namespace and name lower case, as `ObjectKey` folds them).
    subscript(key: ObjectKey) -> StoredPod? {
        get { namespaces[key.namespace]?[key.name] }
        set {
            // In place: the namespace's table is changed where it lies, not copied out and back.
            let delta = namespaces.updateValue(forKey: key.namespace) { pods -> Int in
                var table = pods ?? [:]
                pods = nil  // `table` is then the only reference, and changes without a copy.
                let old: StoredPod?
                if let newValue { old = table.updateValue(newValue, forKey: key.name) } else { old = table.removeValue(forKey: key.name) }
                pods = table.isEmpty ? nil : table
                return (newValue == nil ? 0 : 1) - (old == nil ? 0 : 1)
            }
            count += delta
        }
    }

    /// The Pods of one namespace (lower case), in no particular order.
    func pods(inNamespace namespace: String) -> [Pod] {
        guard let pods = namespaces[namespace] else { return [] }
        return pods.map { $0.value.pod(ObjectKey(namespace: namespace, name: $0.key)) }
    }

    /// Every Pod's key, in no particular order.
    var keys: [ObjectKey] {
        namespaces.flatMap { namespace, pods in pods.keys.map { ObjectKey(namespace: namespace, name: $0) } }
    }

    /// Calls `body` with every Pod, sorted by namespace, then name.
    func forEachSorted(_ body: (ObjectKey, StoredPod) -> Void) {
        for (namespace, pods) in namespaces.sorted(by: { $0.key < $1.key }) {
            for (name, pod) in pods.sorted(by: { $0.key < $1.key }) { body(ObjectKey(namespace: namespace, name: name), pod) }
        }
    }
}
