@testable import ServiceRegistry
import Testing

/// Files are cut at their document markers so that an edit parses only what it changed; the cut
/// must give exactly what parsing the whole file gives.
@Suite struct YAMLDocumentsTests {
    static func service(_ name: String) -> String {
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: \(name)\n  namespace: shop\nspec:\n  clusterIP: None\n  ports:\n  - port: 80\n"
    }

    static let files: [(String, String)] = [
        ("markers between documents", service("a") + "---\n" + service("b") + "---\n" + service("c")),
        ("a leading marker and comments", "# generated\n---\n" + service("a") + "--- # next\n" + service("b")),
        ("directives stay with their document", "%YAML 1.1\n---\n" + service("a") + "...\n%YAML 1.1\n---\n" + service("b")),
        ("a block scalar holding dashes", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: shop}\ndata:\n  text: |\n    --- not a marker inside\n    -- nor this\n---\n" + service("a")),
        ("no trailing newline", service("a") + "---\n" + String(service("b").dropLast())),
    ]

    @Test("decoding each document alone gives the objects, lines and errors of the whole file", arguments: files)
    func documentsDecodeAsTheWholeFile(_ name: String, _ text: String) {
        let whole = DecodedFile(ManifestFile(path: "f.yaml", contents: .success(text)))
        let split = YAMLDocuments(text)
        var objects: [RegistryObject] = []
        var errors: [String] = []
        for document in split.documents {
            let part = split.decoded(document, path: "f.yaml")
            objects += part.allObjects
            errors += part.errors.map(\.description)
        }
        let byLine = { (objects: [RegistryObject]) in objects.sorted { ($0.location.line ?? 0) < ($1.location.line ?? 0) } }
        #expect(byLine(objects).map(\.key) == byLine(whole.allObjects).map(\.key), "\(name)")
        #expect(byLine(objects).map(\.location) == byLine(whole.allObjects).map(\.location), "\(name)")
        #expect(errors == whole.errors.map(\.description), "\(name)")
    }

    @Test func eachDocumentStartsAtItsMarkerLine() {
        let text = Self.service("a") + "---\n" + Self.service("b")
        let documents = YAMLDocuments(text).documents
        #expect(documents.map(\.firstLine) == [1, 10])
        #expect(Set(documents.map(\.hash)).count == 2)
    }
}
