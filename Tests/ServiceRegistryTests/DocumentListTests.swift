@testable import ServiceRegistry
import Testing

/// A re-read file's documents are recorded by sharing the previous reading's chunks of records
/// wherever the same documents sit at the same places, and what the records say (keys, where each
/// object is) is that of the file as it is now.
@Suite struct DocumentListTests {
    static func service(_ index: Int, labels: Int = 0) -> String {
        let labelLines = labels == 0 ? "" : "  labels:\n" + (0..<labels).map { "    l\($0): v\n" }.joined()
        return "apiVersion: v1\nkind: Service\nmetadata:\n  name: service-number-\(index)\n  namespace: team\n\(labelLines)spec:\n  clusterIP: 10.96.\(index / 250).\(index % 250 + 1)\n  ports:\n  - port: 80\n"
    }

    static func file(_ services: [Int], labelled: Int? = nil, labels: Int = 2) -> String {
        services.map { service($0, labels: $0 == labelled ? labels : 0) }.joined(separator: "---\n")
    }

    static func record(_ text: String, previous: ManifestSource.FileRecord?) -> (ManifestSource.FileRecord, ManifestSource.FileReading) {
        let reading = ManifestSource.decode(YAMLDocuments(text), path: "team.yaml", previous: previous)
        let record = ManifestSource.FileRecord(
            stamp: .init(path: "team.yaml", size: text.utf8.count, modified: 0), contentHash: 1, reading: reading, kept: [],
            objectCount: reading.decoded.objects.count)
        return (record, reading)
    }

    static func serviceKey(_ index: Int) -> RegistryObjectKey {
        RegistryObjectKey(kind: "Service", key: ObjectKey(namespace: "team", name: "service-number-\(index)"))
    }

    /// One document of a hundred edited so that it gains lines: it alone is parsed, every chunk but
    /// its own is shared, and the objects after it are found on their new lines.
    @Test func anEditSharesEveryChunkButTheEditedDocumentsOwn() throws {
        let services = Array(0..<100)
        let (before, _) = Self.record(Self.file(services), previous: nil)
        let (after, reading) = Self.record(Self.file(services, labelled: 50, labels: 3), previous: before)
        #expect(reading.parsed == [50])
        let chunks = (100 + ManifestSource.DocumentList.chunkLength - 1) / ManifestSource.DocumentList.chunkLength
        #expect(after.documents.sharedChunkCount(with: before.documents) == chunks - 1)
        // Each document is nine lines and a marker; the edit added four (a `labels:` line and three labels).
        #expect(before.location(of: Self.serviceKey(80), path: "team.yaml")?.line == 80 * 10 + 1)
        #expect(after.location(of: Self.serviceKey(80), path: "team.yaml")?.line == 80 * 10 + 1 + 4)
        #expect(after.location(of: Self.serviceKey(20), path: "team.yaml")?.line == 20 * 10 + 1)
        #expect(after.keys == Set(services.map(Self.serviceKey)))
    }

    /// A document taken out moves every one after it: only the chunks before it are shared, and the
    /// record holds exactly the keys a fresh read of the file holds. (Not the first: the one after it
    /// then loses its marker line, so it is new bytes.)
    @Test(arguments: [1, 37, 99])
    func aDocumentTakenOutLeavesTheKeysOfAFreshRead(removed: Int) throws {
        let services = Array(0..<100)
        let (before, _) = Self.record(Self.file(services), previous: nil)
        let remaining = services.filter { $0 != removed }
        let (after, reading) = Self.record(Self.file(remaining), previous: before)
        let (fresh, _) = Self.record(Self.file(remaining), previous: nil)
        #expect(reading.parsed.isEmpty)
        #expect(reading.replaced.count == 1)
        #expect(after.keys == fresh.keys)
        #expect(after.documents.firstLines == fresh.documents.firstLines)
        #expect(after.documents.sharedChunkCount(with: before.documents) == removed / ManifestSource.DocumentList.chunkLength)
        for index in remaining {
            #expect(after.location(of: Self.serviceKey(index), path: "team.yaml") == fresh.location(of: Self.serviceKey(index), path: "team.yaml"))
        }
    }

    /// A document of several objects (a `List`) is looked into by the passes that search the
    /// unchanged documents for a few keys, whatever its first object's name: an object the List
    /// defines, written again in an edited document, is a duplicate, and is neither gained nor lost.
    @Test func anObjectOfAnUnchangedListWrittenAgainIsADuplicate() throws {
        let list = "apiVersion: v1\nkind: List\nitems:\n" + [1, 2, 3].map { index in
            "- apiVersion: v1\n  kind: Service\n  metadata: {name: service-number-\(index), namespace: team}\n  spec: {clusterIP: 10.96.0.\(index), ports: [{port: 80}]}\n"
        }.joined()
        let (before, _) = Self.record(list + "---\n" + Self.service(7), previous: nil)
        let (_, reading) = Self.record(list + "---\n" + Self.service(3), previous: before)
        #expect(reading.parsed == [1])
        #expect(reading.definesAnObjectTwice)
        #expect(reading.decoded.errors.contains { $0.code == .duplicateObject && $0.object?.name == "service-number-3" })
        let change = ManifestSource.keyChange(from: before, to: reading)
        #expect(change.lost == [Self.serviceKey(7)])
        #expect(change.gained.isEmpty)
    }
}
