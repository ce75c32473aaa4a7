@testable import ServiceRegistry
import SpecSupport
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

    /// The cut as a plain walk over the lines, the rules written out one line at a time: a marker
    /// line (`---` alone or before a blank) starts a document unless nothing but comments, blank
    /// lines and directives came since the last one; directive lines right before it go with it.
    /// The split skips most lines sixteen bytes a step; it must cut exactly here.
    private static func cutsLineByLine(_ text: String) -> [(firstLine: Int, range: Range<Int>)] {
        let bytes = Array(text.utf8)
        var cuts: [(firstLine: Int, range: Range<Int>)] = []
        var start = 0, startLine = 1, line = 1, lineStart = 0
        var directivesOnly = true
        var directivesStart: (offset: Int, line: Int)?
        while lineStart < bytes.count {
            let first = bytes[lineStart]
            let rest = bytes[lineStart...]
            let isMarker = rest.starts(with: Array("---".utf8)) && (rest.count == 3 || [0x0A, 0x20, 0x09, 0x0D].contains(rest.dropFirst(3).first!))
            if isMarker {
                if !directivesOnly {
                    let cut = directivesStart ?? (lineStart, line)
                    if cut.offset > start { cuts.append((startLine, start..<cut.offset)) }
                    (start, startLine) = cut
                }
                directivesOnly = true
                directivesStart = nil
            } else if first == UInt8(ascii: "%") {
                if directivesStart == nil { directivesStart = (lineStart, line) }
            } else {
                directivesStart = nil
                if first != UInt8(ascii: "#") && first != 0x0A { directivesOnly = false }
            }
            guard let newline = rest.firstIndex(of: 0x0A) else { break }
            lineStart = newline + 1
            line += 1
        }
        if bytes.count > start { cuts.append((startLine, start..<bytes.count)) }
        return cuts
    }

    /// Seeded random files of lines a manifest holds, and of lines that look like markers or
    /// directives without being them, long enough for many sixteen-byte steps and short tails.
    @Test func theCutIsThatOfALineByLineWalkForRandomFiles() {
        let lines = [
            "---", "--- # next", "---\r", "--- ", "----", "---x", "--", "-", "- item", "-- not", "%YAML 1.2", "%TAG ! tag:x,2000:",
            "# comment", "", "apiVersion: v1", "kind: Service", "  name: web", "  - port: 80", "- addresses:", "  text: |",
            "    --- inside a scalar", "...", "key: %value", "a-b-c: --- d", String(repeating: "x", count: 40), "\t---",
        ]
        var random = SplitMix(seed: 32)
        for round in 0..<2_000 {
            let lineCount = Int.random(in: 0...(round % 10 == 0 ? 400 : 40), using: &random)
            var text = (0..<lineCount).map { _ in lines.randomElement(using: &random)! }.joined(separator: "\n")
            if Bool.random(using: &random) { text += "\n" }
            let expected = Self.cutsLineByLine(text)
            let documents = YAMLDocuments(text).documents
            #expect(documents.map(\.firstLine) == expected.map(\.firstLine), "round \(round): \(text.debugDescription)")
            #expect(documents.map(\.range) == expected.map(\.range), "round \(round): \(text.debugDescription)")
            if documents.map(\.range) != expected.map(\.range) { return }
        }
    }

    @Test func eachDocumentStartsAtItsMarkerLine() {
        let text = Self.service("a") + "---\n" + Self.service("b")
        let documents = YAMLDocuments(text).documents
        #expect(documents.map(\.firstLine) == [1, 10])
        #expect(Set(documents.map(\.hash)).count == 2)
    }
}
