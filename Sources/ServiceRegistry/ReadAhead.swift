import Dispatch
import Synchronization

/// Runs `work` on a few items ahead, on other threads, while `consume` takes the results in order
/// on the calling thread: files of a registry are read and decoded in parallel, and handed to the
/// store one at a time, in path order, as a load from scratch must. At most `window` results wait
/// at once, so a large registry is never decoded whole before the store takes it.
enum ReadAhead {
    static func forEach<Item: Sendable, Result: Sendable>(
        _ items: [Item],
        window: Int = 3,
        work: @escaping @Sendable (Item) -> Result,
        consume: (Item, Result) -> Void
    ) {
        guard items.count > 1 else {
            for item in items { consume(item, work(item)) }
            return
        }
        let slots = (0..<items.count).map { _ in Slot<Result>() }
        let room = DispatchSemaphore(value: window)
        let queue = DispatchQueue(label: "registry-read-ahead", attributes: .concurrent)
        let starter = DispatchQueue(label: "registry-read-ahead-starter")
        starter.async {
            for (index, item) in items.enumerated() {
                room.wait()
                queue.async { slots[index].fill(work(item)) }
            }
        }
        for (index, item) in items.enumerated() {
            let result = slots[index].take()
            room.signal()
            consume(item, result)
        }
    }

    /// One result, handed from the thread that makes it to the one that waits for it.
    private final class Slot<Result: Sendable>: Sendable {
        private let value = Mutex<Result?>(nil)
        private let ready = DispatchSemaphore(value: 0)

        func fill(_ result: Result) {
            value.withLock { $0 = result }
            ready.signal()
        }

        func take() -> Result {
            ready.wait()
            return value.withLock { value in
                defer { value = nil }
                return value!
            }
        }
    }
}
