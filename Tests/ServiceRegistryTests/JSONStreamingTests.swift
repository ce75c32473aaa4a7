import Foundation
@testable import ServiceRegistry
import Testing

/// A JSON file is decoded as it is read, a List's items one at a time from a buffer that slides
/// along the file. Whatever the file, that must decode exactly as the whole text in memory does:
/// items across chunk boundaries, an item larger than the buffer, errors late in the file with
/// their lines, typed lists, objects that are no List, bad UTF-8 past the first chunk.
@Suite struct JSONStreamingTests {
    static func service(_ index: Int, padding: Int = 0) -> String {
        let note = padding > 0 ? ", \"annotations\": {\"note\": \"\(String(repeating: "x", count: padding))\"}" : ""
        return """
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "svc-\(index)", "namespace": "shop"\(note)},
                "spec": {"clusterIP": "10.96.\(index / 250).\(index % 250 + 1)", "ports": [{"port": 80}]}
            }
            """
    }

    static func list(_ items: [String], kind: String = "List", kindFirst: Bool = false) -> String {
        let body = "\"items\": [\n" + items.joined(separator: ",\n") + "\n]"
        return kindFirst
            ? "{\"kind\": \"\(kind)\", \"apiVersion\": \"v1\", \(body), \"metadata\": {}}\n"
            : "{\"apiVersion\": \"v1\", \(body), \"kind\": \"\(kind)\", \"metadata\": {\"resourceVersion\": \"\"}}\n"
    }

    /// The file decoded streamed from disk, and its text decoded in memory.
    static func bothWays(_ text: String) throws -> (streamed: DecodedFile, whole: DecodedFile, hash: Int) {
        let directory = try TestPaths.temporaryRegistry(["list.json": text])
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("list.json").path
        let (streamed, hash) = DecodedFile.streamingJSON(at: path)
        let whole = DecodedFile(ManifestFile(path: path, contents: .success(text)))
        return (streamed, whole, hash)
    }

    static func expectSame(_ streamed: DecodedFile, _ whole: DecodedFile, _ comment: Comment? = nil) {
        #expect(streamed.objects.map(\.key) == whole.objects.map(\.key), comment)
        #expect(streamed.objects.map(\.location) == whole.objects.map(\.location), comment)
        #expect(streamed.objects.map(\.content) == whole.objects.map(\.content), comment)
        #expect(streamed.reservedAddresses == whole.reservedAddresses, comment)
        #expect(streamed.errors.map(\.description) == whole.errors.map(\.description), comment)
        #expect(streamed.rejected.map(\.reference) == whole.rejected.map(\.reference), comment)
        #expect(streamed.isBroken == whole.isBroken, comment)
    }

    @Test func aListLargerThanItsChunksDecodesAsInMemory() throws {
        // 3 MiB of items in 1 MiB chunks, one item four times the buffer's first size, and a bad
        // item near the end whose error must name its line.
        var items = (0..<6000).map { Self.service($0, padding: $0 % 7 == 0 ? 300 : 0) }
        items[3000] = Self.service(3000, padding: 5 * JSONFileStream.chunkSize)
        items[5990] = items[5990].replacingOccurrences(of: "\"port\": 80", with: "\"port\": 99999")
        let (streamed, whole, hash) = try Self.bothWays(Self.list(items))
        #expect(whole.objects.count == 5999)
        #expect(whole.errors.count == 1)
        Self.expectSame(streamed, whole)
        #expect(hash == ContentHash.of(Self.list(items)))
    }

    @Test func aListWithCarriageReturnsInSomeItemsDecodesAsInMemory() throws {
        // Lines end in a lone CR in every third item, CRLF in every fifth, LF elsewhere: each
        // item's line is counted either way, and the error of a bad item late in the file names
        // its line.
        var items = (0..<3000).map { index in
            switch index {
            case _ where index % 3 == 0: Self.service(index).replacingOccurrences(of: "\n", with: "\r")
            case _ where index % 5 == 0: Self.service(index).replacingOccurrences(of: "\n", with: "\r\n")
            default: Self.service(index)
            }
        }
        items[2990] = items[2990].replacingOccurrences(of: "\"port\": 80", with: "\"port\": 99999")
        let (streamed, whole, _) = try Self.bothWays(Self.list(items))
        #expect(whole.objects.count == 2999)
        Self.expectSame(streamed, whole)
    }

    @Test(arguments: JSONParsingTests.malformed)
    func malformedJSONGivesTheSameErrorStreamed(_ name: String, _ text: String, _ line: Int, _ words: String) throws {
        let (streamed, whole, _) = try Self.bothWays(text)
        Self.expectSame(streamed, whole, "\(name)")
    }

    @Test func aSyntaxErrorPastManyChunksIsReportedAtItsLine() throws {
        var items = (0..<5000).map { Self.service($0) }
        items[4800] = "{\"kind\": }"
        let (streamed, whole, _) = try Self.bothWays(Self.list(items))
        #expect(whole.isBroken && whole.objects.isEmpty)
        Self.expectSame(streamed, whole)
    }

    @Test("typed lists, their kind before or after the items", arguments: [true, false])
    func typedListsDecodeAsInMemory(kindFirst: Bool) throws {
        // A ServiceList's items may leave out their kind and apiVersion.
        let items = (0..<3000).map {
            Self.service($0).replacingOccurrences(of: "\"apiVersion\": \"v1\",\n    \"kind\": \"Service\",\n", with: "")
        }
        let (streamed, whole, _) = try Self.bothWays(Self.list(items, kind: "ServiceList", kindFirst: kindFirst))
        #expect(whole.objects.count == 3000)
        Self.expectSame(streamed, whole)
    }

    @Test func anObjectThatIsNoListAndOutgrowsTheFirstChunkDecodes() throws {
        let (streamed, whole, _) = try Self.bothWays(Self.service(1, padding: 6 * JSONFileStream.chunkSize))
        #expect(whole.objects.count == 1)
        Self.expectSame(streamed, whole)
        // An object with items that is not a List: the items are no objects of the registry.
        let (notList, notListWhole, _) = try Self.bothWays(Self.list((0..<3000).map { Self.service($0) }, kind: "ConfigMap"))
        Self.expectSame(notList, notListWhole)
    }

    @Test func badUTF8PastTheFirstChunkIsRefused() throws {
        let directory = try TestPaths.temporaryRegistry([:])
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("list.json")
        var bytes = Array(Self.list((0..<6000).map { Self.service($0) }).utf8)
        let name = Array("svc-5000\"".utf8)
        let at = try #require((0..<bytes.count).first { bytes[$0..<min(bytes.count, $0 + name.count)].elementsEqual(name) })
        bytes[at + 3] = 0xC0  // svc-5000 → sv\xC0-5000: an overlong form
        try Data(bytes).write(to: path)
        let (decoded, _) = DecodedFile.streamingJSON(at: path.path)
        #expect(decoded.isBroken)
        #expect(decoded.objects.isEmpty)
        #expect(decoded.errors.map(\.reason) == ["is not UTF-8 text"])
    }
}
