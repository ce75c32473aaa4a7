import Foundation
@testable import ServiceRegistry
import Synchronization
import Testing

/// Files are decoded ahead on other threads and handed over in order: a load from scratch must
/// see them in path order (the first definition of an object wins), and no more than a few may be
/// decoded and waiting at once.
@Suite struct ReadAheadTests {
    // (How many run at once depends on the threads free: not asserted.)
    @Test func resultsArriveInOrderWithFewWaiting() {
        let finished = Atomic<Int>(0)
        var consumed: [Int] = []
        var mostWaiting = 0
        ReadAhead.forEach(Array(0..<40), window: 3, work: { item -> Int in
            // Later items finish first, if anything would reorder them.
            usleep(useconds_t(1000 * (item % 4 == 0 ? 5 : 1)))
            finished.add(1, ordering: .relaxed)
            return item * 2
        }, consume: { item, result in
            #expect(result == item * 2)
            consumed.append(item)
            // A consumer slower than the workers, so that results would pile up without the bound;
            // then finished and not yet taken (the one in hand was taken before `consume`).
            usleep(3000)
            mostWaiting = max(mostWaiting, finished.load(ordering: .relaxed) - consumed.count)
        })
        #expect(consumed == Array(0..<40))
        #expect(mostWaiting <= 3)
        #expect(mostWaiting >= 2, "results waited, so an unbounded read-ahead would have shown")
    }
}
