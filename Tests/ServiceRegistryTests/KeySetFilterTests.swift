@testable import ServiceRegistry
import Testing

/// The prefilter in front of a key set may only save work: it must answer exactly as the set does.
@Suite struct KeySetFilterTests {
    @Test func answersExactlyAsTheSetDoes() {
        let kinds = ["Service", "EndpointSlice", "Pod", "Namespace"]
        let all = (0..<2000).map { index in
            RegistryObjectKey(kind: kinds[index % 4], namespace: "team-\(index % 7)", name: String(repeating: "x", count: index % 40) + "\(index)")
        }
        let members = Set(all.enumerated().filter { $0.offset % 97 == 0 }.map(\.element))
        let filter = KeySetFilter(members)
        #expect(all.filter(filter.contains).count == members.count)
        #expect(all.allSatisfy { filter.contains($0) == members.contains($0) })
        // The same name under another kind or namespace is another key.
        let member = members.first!
        #expect(!filter.contains(RegistryObjectKey(kind: "Other", namespace: member.key.namespace, name: member.key.name)))
        #expect(KeySetFilter([]).contains(member) == false)
    }

    /// A document's record passes over the keys the filter cannot hold by the bit it keeps with
    /// each, and gives exactly the keys the set holds, of every kind; keeping the bit costs no byte.
    @Test func aDocumentGivesExactlyItsKeysTheSetHolds() {
        let kinds = ["Service", "EndpointSlice", "Pod", "Namespace", "ConfigMap (v1)"]
        let keys = (0..<3000).map { index in
            RegistryObjectKey(kind: kinds[index % 5], namespace: index % 5 == 3 ? "" : "team-\(index % 7)", name: "svc-\(index)")
        }
        let document = ManifestSource.DocumentRecord(objects: keys.map { .init(key: $0, lineOffset: 0) })
        let members = Set(keys.enumerated().filter { $0.offset % 89 == 0 }.map(\.element))
        var found: [RegistryObjectKey] = []
        document.forEachKey(in: KeySetFilter(members)) { found.append($0) }
        #expect(Set(found) == members && found.count == members.count)
        #expect(ManifestSource.DocumentRecord.compactObjectStride == 40)
    }
}
