import Atomics
import Synchronization

/// One upstream resolver and its health: the failed health probes since it last answered, and the
/// probe loop running while it is suspect.
final class Upstream: Sendable {
    let address: UpstreamAddress
    let statistics = UpstreamStatistics()
    /// Failed health probes in a row; reset by any reply.
    let fails = ManagedAtomic(0)
    /// The running probe loop, if any: one per upstream at a time.
    let healthCheck = Mutex<Task<Void, Never>?>(nil)

    init(address: UpstreamAddress) {
        self.address = address
    }

    /// Out of rotation: `maxFails` probes failed in a row (never, when `maxFails` is 0).
    func isDown(maxFails: Int) -> Bool {
        maxFails > 0 && fails.load(ordering: .relaxed) >= maxFails
    }
}
