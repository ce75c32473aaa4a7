import Foundation
import ServiceRegistry
import Testing

/// A watch body's lines, whatever chunks the network cut it into.
@Suite struct StreamedLinesTests {
    @Test(arguments: [1, 2, 3, 7, 64])
    func linesComeOutWholeWhateverTheChunks(chunkSize: Int) {
        let body = Array("{\"a\":1}\n{\"b\":22}\n\n{\"c\":333}\n{\"partial\"".utf8)
        var lines = StreamedLines()
        var seen: [String] = []
        var offset = 0
        while offset < body.count {
            lines.append(body[offset..<min(offset + chunkSize, body.count)])
            offset += chunkSize
            while let line = lines.next() { seen.append(String(decoding: line, as: UTF8.self)) }
        }
        #expect(seen == ["{\"a\":1}", "{\"b\":22}", "", "{\"c\":333}"])
        // The unfinished last line is held, and comes out once its newline arrives.
        lines.append(Array(":4}\n".utf8))
        #expect(lines.next().map { String(decoding: $0, as: UTF8.self) } == "{\"partial\":4}")
        #expect(lines.next() == nil)
    }
}
