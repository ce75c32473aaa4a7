import Foundation
@testable import ServiceRegistry
import Synchronization
import Testing

/// Files are decoded ahead on other threads and handed over in order: a load from scratch must
/// see them in path order (the first definition of an object wins), and no more than a few may be
/// decoded and waiting at once.
@Suite struct ReadAheadTests {
    @Test func resultsArriveInOrderWithFewWaiting() {
        let running = Atomic<Int>(0)
        let mostRunning = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        var consumed: [Int] = []
        var mostWaiting = 0
        ReadAhead.forEach(Array(0..<40), window: 3, work: { item -> Int in
            let now = running.add(1, ordering: .relaxed).newValue
            mostRunning.max(now, ordering: .relaxed)
            // Later items finish first, if anything would reorder them.
            usleep(useconds_t(1000 * (item % 4 == 0 ? 5 : 1)))
            running.subtract(1, ordering: .relaxed)
            finished.add(1, ordering: .relaxed)
            return item * 2
        }, consume: { item, result in
            #expect(result == item * 2)
            mostWaiting = max(mostWaiting, finished.load(ordering: .relaxed) - consumed.count)
            consumed.append(item)
        })
        #expect(consumed == Array(0..<40))
        #expect(mostRunning.load(ordering: .relaxed) > 1, "nothing ran in parallel")
        #expect(mostWaiting <= 3)
    }
}
