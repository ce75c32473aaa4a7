@testable import ServiceRegistry
import Testing

/// A re-read file's documents find their previous records by hash: each previous record is taken
/// once, the last of a hash first, and hashes that share a slot of the table stay apart.
@Suite struct DocumentsByHashTests {
    @Test func eachPreviousDocumentIsTakenOnceTheLastOfAHashFirst() {
        // 5, 5 + 1024 and 5 + 2048 share their low bits, so they probe past one another.
        let hashes = [5, 7, 5, 5 + 1024, 5 + 2048, 5]
        var table = DocumentsByHash(hashes)
        #expect(table.holds(5) && table.holds(7) && table.holds(5 + 1024) && !table.holds(9) && !table.holds(5 + 4096))
        #expect([table.take(5), table.take(5), table.take(5), table.take(5)] == [5, 2, 0, nil])
        #expect(!table.holds(5))
        #expect(table.take(5 + 2048) == 4 && table.take(5 + 1024) == 3 && table.take(7) == 1)
        #expect(table.take(7) == nil && table.take(9) == nil)
    }
}
