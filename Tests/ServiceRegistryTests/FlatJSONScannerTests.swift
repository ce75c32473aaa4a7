@testable import ServiceRegistry
import Testing

/// The scanner reads plain string bytes and indentation eight at a time; whatever byte needs a
/// look must be seen wherever it falls in those eight.
@Suite struct FlatJSONScannerTests {
    /// What the scanner makes of `text`: the root's kind and byte range, or nil when it declines.
    static func scanned(_ text: [UInt8]) -> (kind: FlatJSONScanner.Kind, range: Range<Int32>)? {
        var scanner = FlatJSONScanner()
        return text.withUnsafeBufferPointer { bytes in
            guard let root = try? scanner.read(bytes) else { return nil }
            let node = scanner.nodes[Int(root)]
            return (node.kind, node.start..<node.end)
        }
    }

    @Test(arguments: 0..<20)
    func aByteThatEndsOrMarksAStringIsSeenAtEveryOffset(offset: Int) {
        let before = [UInt8](repeating: UInt8(ascii: "a"), count: offset)
        let after = [UInt8](repeating: UInt8(ascii: "b"), count: 11)
        let quote = UInt8(ascii: "\"")
        // The string ends here: what follows is not JSON.
        #expect(Self.scanned([quote] + before + [quote] + after + [quote]) == nil)
        #expect(Self.scanned([quote] + before + [quote])?.range == 1..<Int32(1 + offset))
        // Bytes after the closing quote that would need a look inside a string do not move its end.
        #expect(Self.scanned([quote] + before + [quote, 0x0A, 0x0A])?.range == 1..<Int32(1 + offset))
        // An escape or a byte outside ASCII: a valid string the fast path does not read as plain.
        let escaped = Self.scanned([quote] + before + Array(#"\""#.utf8) + after + [quote])
        #expect(escaped?.kind == .otherString)
        #expect(escaped?.range == 1..<Int32(1 + offset + 2 + after.count))
        #expect(Self.scanned([quote] + before + Array("é".utf8) + after + [quote])?.kind == .otherString)
        // A control byte is never valid inside a string.
        #expect(Self.scanned([quote] + before + [0x0A] + after + [quote]) == nil)
        #expect(Self.scanned([quote] + before + [0x1F] + after + [quote]) == nil)
        // Bytes next to those in value, each plain.
        for plain: UInt8 in [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F] {
            #expect(Self.scanned([quote] + before + [plain] + after + [quote])?.kind == .plainString, "byte \(plain)")
        }
    }

    @Test(arguments: [0, 1, 7, 8, 9, 16, 23])
    func indentationOfAnyLengthIsSkipped(spaces: Int) {
        let indent = [UInt8(ascii: "\n")] + [UInt8](repeating: UInt8(ascii: " "), count: spaces)
        let text = Array("{".utf8) + indent + Array(#""a":"#.utf8) + indent + Array("1".utf8) + indent + Array("}".utf8)
        #expect(Self.scanned(text)?.kind == .object)
        // A stray byte after the run is still seen.
        let stray = Array("{".utf8) + indent + Array("x".utf8) + Array(#""a":1}"#.utf8)
        #expect(Self.scanned(stray) == nil)
    }
}
