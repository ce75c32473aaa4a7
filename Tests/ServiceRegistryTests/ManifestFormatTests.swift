import Foundation
import Logging
import ServiceRegistry
import Testing

/// Manifests arrive in every form kubectl writes: multi-document YAML, JSON, Lists, directories.
@Suite struct ManifestFormatTests {
    @Test func multiDocumentYAMLReadsEveryDocumentAndIgnoresEmptyOnes() {
        let result = ManifestLoader.load(text: """
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: None}
            ...
            """, name: "multi.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.namespaces == ["shop"])
        #expect(result.snapshot.services.map(\.name) == ["web"])
    }

    @Test func jsonObjectsAndListsAreReadWithLineNumbers() throws {
        let result = ManifestLoader.load(text: """
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "metadata": {"name": "web", "namespace": "shop"},
                        "spec": {"clusterIP": "10.96.0.7", "ports": [{"port": 80}]}
                    },
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "metadata": {"name": "bad", "namespace": "shop"},
                        "spec": {"clusterIP": "10.96.0.300", "ports": [{"port": 80}]}
                    }
                ]
            }
            """, name: "list.json")
        #expect(result.snapshot.services.map(\.name) == ["web"])
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(error.code == .invalidIP)
        #expect(error.location == SourceLocation(file: "list.json", line: 15))
        #expect(error.field == "spec.clusterIP")
    }

    @Test func typedListsFromTheAPIMayLeaveOutItemKinds() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: ServiceList
            items:
            - metadata: {name: a}
              spec: {clusterIP: 10.96.0.2, ports: [{port: 80}]}
            - metadata: {name: b}
              spec: {clusterIP: 10.96.0.3, ports: [{port: 80}]}
            """, name: "svc.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.services.map(\.name) == ["a", "b"])
    }

    @Test func invalidJSONIsReportedAsJSONWithItsLineAndColumn() throws {
        let result = ManifestLoader.load(text: "{\n  \"apiVersion\": \"v1\",\n  \"kind\": }", name: "broken.json")
        let error = try #require(result.errors.first)
        #expect(error.code == .invalidJSON)
        #expect(error.description == "broken.json:3: not valid JSON at column 11: unexpected '}', expected a value (an object, array, string, number, true, false or null)")
    }

    @Test func aJSONFileHoldingNullHasNoObjects() {
        let result = ManifestLoader.load(texts: [
            (name: "empty.json", text: "null\n"),
            (name: "ns.yaml", text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"),
        ])
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.namespaces == ["shop"])
    }

    @Test func yamlSyntaxErrorsCarryTheLine() throws {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
             namespace: shop
            """, name: "bad.yaml")
        let error = try #require(result.errors.first)
        #expect(error.code == .yamlSyntax)
        #expect(error.location?.file == "bad.yaml")
        #expect(error.location?.line == 5)
    }

    @Test func anchorsAndAliasesAreResolved() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
              labels: &labels {app: web}
            spec:
              clusterIP: 10.96.0.7
              ports: [{port: &port 80, targetPort: *port}]
              selector: *labels
            """, name: "anchors.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        let service = result.snapshot.services.first
        #expect(service?.selector == ["app": "web"])
        #expect(service?.ports.first?.targetPort == .number(80))
    }

    @Test func anUndefinedAliasIsASyntaxErrorWithItsLine() throws {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Namespace
            metadata: {name: *missing}
            """, name: "alias.yaml")
        let error = try #require(result.errors.first)
        #expect(error.code == .yamlSyntax)
        #expect(error.location?.line == 3)
    }

    @Test func aDuplicateKeyIsASyntaxErrorAtTheSecondKey() throws {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
              name: api
            spec: {clusterIP: None}
            """, name: "twice.yaml")
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(error.code == .yamlSyntax)
        #expect(error.location == SourceLocation(file: "twice.yaml", line: 6))
        #expect(error.reason.contains("\"name\""))
        #expect(result.snapshot.services.isEmpty)
    }

    @Test func aDuplicateKeyInALargeMappingIsFoundToo() throws {
        let labels = (0..<40).map { "    label-\($0): x" }.joined(separator: "\n")
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
              labels:
            \(labels)
                label-7: y
            """, name: "labels.yaml")
        let error = try #require(result.errors.first)
        #expect(error.code == .yamlSyntax)
        #expect(error.location?.line == 46)
        #expect(error.reason.contains("\"label-7\""))
    }

    @Test func documentsBeforeASyntaxErrorStillLoad() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: v1
            kind: [unclosed
            """, name: "half.yaml")
        #expect(result.errors.map(\.code) == [.yamlSyntax])
        #expect(result.snapshot.namespaces == ["shop"])
    }

    @Test func directoriesAreWalkedRecursivelyForYAMLAndJSONOnly() {
        let directory = TestPaths.fixture("app")
        let result = ManifestLoader.load(paths: [directory])
        #expect(result.files == [
            "\(directory)/lists/pods.json",
            "\(directory)/manifests/configmap.yaml",
            "\(directory)/manifests/deployment.yaml",
            "\(directory)/manifests/service.yml",
        ])
        #expect(result.snapshot.services.map(\.name) == ["web"])
        #expect(result.snapshot.pods.map(\.name) == ["web-1"])
        // web-2 has an invalid podIP and is left out, with its error.
        #expect(result.errors.map(\.code) == [.invalidIP])
        #expect(result.errors.first?.object == ObjectReference(kind: "Pod", namespace: "shop", name: "web-2"))
    }

    @Test func otherKindsAreSkippedWithOneLogLineEach() {
        let recorder = LogRecorder()
        let logger = Logger(label: "test") { _ in recorder }
        let result = ManifestLoader.load(paths: [TestPaths.fixture("app/manifests")], logger: logger)
        #expect(result.skipped.map(\.reference.description) == ["ConfigMap shop/web-config", "Deployment web"])
        #expect(result.summary.skippedObjects == 2)
        let lines = recorder.messages
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.level == .info })
        #expect(lines.contains { $0.message.contains("Deployment web") && $0.message.contains("deployment.yaml:1") })
    }

    @Test func aMissingPathIsUnreadableAndAnEmptyDirectoryHasNoManifests() throws {
        let empty = try TestPaths.temporaryRegistry(["notes.txt": "hello"])
        defer { try? FileManager.default.removeItem(at: empty) }
        let result = ManifestLoader.load(paths: ["/nonexistent/registry.yaml", empty.path])
        #expect(result.errors.map(\.code) == [.unreadableFile, .noManifests])
        #expect(result.errors[0].description == "/nonexistent/registry.yaml: no such file or directory")
    }

    @Test func aFileThatIsNotUTF8IsUnreadable() throws {
        let directory = try TestPaths.temporaryRegistry([:])
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("latin1.yaml")
        try Data([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xe9, 0xff]).write(to: file)
        let result = ManifestLoader.load(paths: [file.path])
        #expect(result.errors.map(\.code) == [.unreadableFile])
    }

    @Test func loadingTheSameFilesInAnyOrderGivesTheSameSnapshot() {
        let a = (name: "a.yaml", text: "apiVersion: v1\nkind: Service\nmetadata: {name: one}\nspec: {ports: [{port: 80}]}\n")
        let b = (name: "b.yaml", text: "apiVersion: v1\nkind: Service\nmetadata: {name: two}\nspec: {ports: [{port: 80}]}\n")
        let forward = ManifestLoader.load(texts: [a, b])
        let backward = ManifestLoader.load(texts: [b, a])
        #expect(forward.snapshot.services == backward.snapshot.services)
        #expect(forward.files == ["a.yaml", "b.yaml"])
    }
}

/// Collects log messages so tests can check what a load logged.
final class LogRecorder: LogHandler, @unchecked Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let lock = NSLock()
    private var entries: [Entry] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var messages: [Entry] { lock.withLock { entries } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.withLock { entries.append(Entry(level: event.level, message: event.message.description)) }
    }
}
