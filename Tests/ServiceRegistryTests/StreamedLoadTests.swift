import Foundation
import Logging
@testable import ServiceRegistry
import Testing

/// A large JSON List is decoded on another thread while the store takes its objects in chunks
/// (`StreamedJSONFile`). Whatever the file, the registry served must be exactly the one a load of
/// the file decoded whole gives, and a file that turns out broken or no List only after objects
/// were handed over must leave none of them behind.
@Suite struct StreamedLoadTests {
    typealias Item = JSONStreamingTests

    /// Services, slices and pods, with a duplicate, a rejected Service and a clash among them,
    /// spread over several chunks of `StreamedJSONFile.chunkSize`.
    static func clusterItems() -> [String] {
        var items = (0..<5000).map { Item.service($0) }
        items[2500] = items[2500].replacingOccurrences(of: "\"port\": 80", with: "\"port\": 99999")
        items[4000] = Item.service(10)
        items[4500] = items[4500].replacingOccurrences(of: "10.96.18.1", with: "10.96.0.1")
        items.append("""
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": "svc-7-a", "namespace": "shop", "labels": {"kubernetes.io/service-name": "svc-7"}},
             "addressType": "IPv4", "endpoints": [{"addresses": ["10.1.0.7"], "conditions": {"ready": true}}], "ports": [{"port": 8080}]}
            """)
        items.append("""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "shop"}, "status": {"podIP": "10.1.0.7"}}
            """)
        return items
    }

    static func load(_ directory: URL, streamingAbove threshold: Int) -> (result: RegistryLoadResult, source: ManifestSource) {
        let source = ManifestSource(
            paths: [directory.path], options: .init(), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            watchingWrites: false, streamingJSONAbove: threshold)
        return (source.load(), source)
    }

    static func expectSameRegistry(_ streamed: RegistryLoadResult, _ whole: RegistryLoadResult, _ comment: Comment? = nil) {
        #expect(streamed.snapshot.services == whole.snapshot.services, comment)
        #expect(streamed.snapshot.pods == whole.snapshot.pods, comment)
        #expect(streamed.snapshot.namespaces == whole.snapshot.namespaces, comment)
        #expect(streamed.snapshot.endpointGroups(namespace: "shop", service: "svc-7") == whole.snapshot.endpointGroups(namespace: "shop", service: "svc-7"), comment)
        #expect(streamed.errors.map(\.description).sorted() == whole.errors.map(\.description).sorted(), comment)
    }

    static let cases: [(String, String)] = {
        var brokenLate = clusterItems()
        brokenLate[4800] = "{\"kind\": }"
        var kindsLeftOutLate = clusterItems()
        kindsLeftOutLate[4900] = kindsLeftOutLate[4900].replacingOccurrences(of: "\"kind\": \"Service\",\n", with: "")
        return [
            ("a List", Item.list(clusterItems())),
            ("a List cut short", String(Item.list(clusterItems()).dropLast(200))),
            ("a List broken late", Item.list(brokenLate)),
            ("an object with items, no List", Item.list(clusterItems(), kind: "ConfigMap")),
            ("a typed List, its kind first", Item.list(clusterItems(), kind: "ServiceList", kindFirst: true)),
            ("an item without kind late", Item.list(kindsLeftOutLate)),
        ]
    }()

    @Test(arguments: cases)
    func aStreamedFileServesWhatTheWholeFileServes(_ name: String, _ text: String) throws {
        let directory = try TestPaths.temporaryRegistry(["shop.json": text, "other.yaml": Item.service(9000).replacingOccurrences(of: "shop", with: "other")])
        defer { try? FileManager.default.removeItem(at: directory) }
        let streamed = Self.load(directory, streamingAbove: 0).result
        let whole = Self.load(directory, streamingAbove: .max).result
        Self.expectSameRegistry(streamed, whole, "\(name)")
        // What `check` and `export` load agrees too.
        #expect(ManifestLoader.load(paths: [directory.path]).snapshot.services == whole.snapshot.services, "\(name)")
    }

    @Test("a List is handed over in chunks, decoded on another thread or on this one", arguments: [true, false])
    func aListIsStreamedInChunks(onAnotherThread: Bool) throws {
        // The objects are handed over as they are decoded, not after the file.
        let directory = try TestPaths.temporaryRegistry(["shop.json": Item.list(Self.clusterItems())])
        defer { try? FileManager.default.removeItem(at: directory) }
        var chunks: [Int] = []
        let (rest, _, retracted) = StreamedJSONFile.decode(at: directory.appendingPathComponent("shop.json").path, onAnotherThread: onAnotherThread) {
            chunks.append($0.count)
        }
        #expect(!retracted)
        #expect(chunks.count == 2 && chunks.allSatisfy { $0 == StreamedJSONFile.chunkSize })
        // Every valid object, the second definition of svc-10 too: the receiver (`RegistryLoad`)
        // finds that one, so that the keys are recorded once, not by the decoder as well.
        #expect(chunks.reduce(0, +) + rest.objects.count == 5001)
    }

    @Test func anEditOfAStreamedFileIsDiffedAgainstEverythingItHeld() throws {
        let items = Self.clusterItems()
        let directory = try TestPaths.temporaryRegistry(["shop.json": Item.list(items)])
        defer { try? FileManager.default.removeItem(at: directory) }
        let (loaded, source) = Self.load(directory, streamingAbove: 0)
        #expect(loaded.snapshot.service(namespace: "shop", name: "svc-100") != nil)
        // svc-100 (in the first chunk) and svc-4999 (left at the end) deleted, svc-3000 changed.
        var edited = items
        edited[3000] = Item.service(3000).replacingOccurrences(of: "10.96.12.1\"", with: "10.96.200.1\"")
        edited.remove(at: 4999)
        edited.remove(at: 100)
        try Item.list(edited).write(to: directory.appendingPathComponent("shop.json"), atomically: true, encoding: .utf8)
        let snapshot = try #require(source.poll() ?? source.poll())
        #expect(snapshot.service(namespace: "shop", name: "svc-100") == nil)
        #expect(snapshot.service(namespace: "shop", name: "svc-4999") == nil)
        #expect(snapshot.service(namespace: "shop", name: "svc-3000")?.clusterIPs == [IPAddress("10.96.200.1")!])
        // (Where each sits in the file is left out: a Service an edit moved keeps its published
        // line until it is derived again; see `relocate` in RegistryStore.)
        func placeless(_ services: [Service]) -> [Service] { services.map { var service = $0; service.source = nil; return service } }
        #expect(placeless(snapshot.services) == placeless(Self.load(directory, streamingAbove: .max).result.snapshot.services))
    }
}
