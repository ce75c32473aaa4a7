import Foundation
@testable import ServiceRegistry
import SpecSupport
import Testing

/// Files are read straight into a String and hashed to tell whether they changed: what is read must
/// be exactly the file, bad UTF-8 must be refused as the standard library would refuse it, and a
/// change anywhere must change the hash.
@Suite struct FileReadingTests {
    static let byteSequences: [[UInt8]] = [
        Array("plain ASCII, long enough to take the eight-byte path".utf8),
        Array("é€😀 mixed with ASCII".utf8),
        [0xC3], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xF0, 0x9F, 0x98], [0x80], [0xFF], Array("ok".utf8) + [0xE2, 0x82] + Array("AC after".utf8),
    ]

    @Test("UTF-8 is checked as the standard library checks it", arguments: byteSequences)
    func utf8IsCheckedAsTheStandardLibraryChecksIt(_ bytes: [UInt8]) {
        let expected = String(validating: bytes, as: UTF8.self) != nil
        #expect(bytes.withUnsafeBufferPointer(UTF8FileReader.isValidUTF8) == expected)
    }

    @Test("a sequence among ASCII is checked wherever it falls in a 32-byte step", arguments: byteSequences)
    func aSequenceAmongASCIIIsCheckedAtEveryOffset(_ sequence: [UInt8]) {
        let expected = String(validating: sequence, as: UTF8.self) != nil
        for offset in 0..<40 {
            let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: offset) + sequence + [UInt8](repeating: UInt8(ascii: "b"), count: 70 - offset)
            #expect(bytes.withUnsafeBufferPointer(UTF8FileReader.isValidUTF8) == expected, "offset \(offset)")
        }
    }

    @Test func randomBytesAreCheckedAsTheStandardLibraryChecksThem() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let alphabet: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xA0, 0x90, 0x8F]
            let bytes = (0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBufferPointer(UTF8FileReader.isValidUTF8) == expected, "\(bytes)")
        }
    }

    @Test func aFileIsReadWholeAndBadUTF8IsRefused() throws {
        let directory = try TestPaths.temporaryRegistry([:])
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.yaml")
        let text = String(repeating: "kind: Service # é€ \n", count: 5000)
        try text.write(to: good, atomically: true, encoding: .utf8)
        #expect(try UTF8FileReader.read(good.path).get() == text)

        let bad = directory.appendingPathComponent("bad.yaml")
        try Data([0x6B, 0x69, 0x6E, 0x64, 0x3A, 0x20, 0xC0, 0x80]).write(to: bad)
        #expect(ManifestLoader.read(bad.path).contents == .failure(.init(reason: "is not UTF-8 text")))
        #expect(UTF8FileReader.read(directory.appendingPathComponent("missing.yaml").path) == .failure(.unreadable("No such file or directory")))
    }

    @Test func aChangeOfOneByteAnywhereChangesTheHash() {
        let base = Array(String(repeating: "apiVersion: v1\nkind: Service\n", count: 7).utf8)
        let hash = base.withUnsafeBytes(ContentHash.of)
        var seen: Set<Int> = [hash]
        for index in base.indices {
            var changed = base
            changed[index] ^= 0x01
            seen.insert(changed.withUnsafeBytes(ContentHash.of))
        }
        #expect(seen.count == base.count + 1)
        // Lengths that end inside the eight-byte and 32-byte steps, and a trailing zero byte.
        let lengths = (0..<70).map { Array(base.prefix($0)).withUnsafeBytes(ContentHash.of) }
        #expect(Set(lengths).count == 70)
        #expect((base + [0]).withUnsafeBytes(ContentHash.of) != hash)
    }

    /// A file hashed as it is read, in pieces of any size, has the hash of its whole text; and the
    /// hash follows the order of the bytes, not only which bytes there are.
    @Test func piecesOfAnySizeHashAsTheWholeAndOrderCounts() {
        var random = SplitMix(seed: 33)
        for round in 0..<300 {
            let length = Int(random.next() % 700)
            let text = (0..<length).map { _ in UInt8(0x20 + random.next() % 95) }
            let whole = text.withUnsafeBytes(ContentHash.of)
            var hash = ContentHash()
            var offset = 0
            while offset < text.count {
                let piece = min(text.count - offset, Int(random.next() % 150))
                text[offset..<(offset + piece)].withUnsafeBytes { hash.update($0) }
                offset += piece
            }
            #expect(hash.finalize() == whole, "round \(round), \(length) bytes")
        }
        let first = Array(String(repeating: "apiVersion: v1\n", count: 4).utf8.prefix(64))
        let second = Array(String(repeating: "kind: Service\n", count: 5).utf8.prefix(64))
        #expect((first + second).withUnsafeBytes(ContentHash.of) != (second + first).withUnsafeBytes(ContentHash.of))
    }
}
