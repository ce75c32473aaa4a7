import Logging
import ServiceRegistry

/// Whether etcd answers, for the log: the first failure says the registry is now stale (and
/// that the last good one keeps answering), later ones say for how long, a few seconds apart, and
/// the first success after says it is fresh again. Also paces the retries (backoff with jitter).
struct EtcdHealth {
    let logger: Logger
    private var failingSince: ContinuousClock.Instant?
    private var lastReport: ContinuousClock.Instant?
    private var failures = 0

    init(logger: Logger) {
        self.logger = logger
    }

    mutating func failed(_ error: any Error, revision: Int64?) {
        let now = ContinuousClock.now
        failures += 1
        guard let since = failingSince else {
            failingSince = now
            lastReport = now
            if let revision {
                logger.warning("etcd: \(error); serving the last good registry (revision \(revision)) while it cannot be reached")
            } else {
                logger.warning("etcd: \(error); no complete list yet, cluster names answer SERVFAIL")
            }
            return
        }
        if let lastReport, now - lastReport < .seconds(5) { return }
        lastReport = now
        let stale = revision.map { "the registry is stale (revision \($0))" } ?? "still no complete list (cluster names answer SERVFAIL)"
        logger.warning("etcd unreachable for \((now - since).briefly): \(error); \(stale)")
    }

    mutating func reached(revision: Int64) {
        failures = 0
        guard let since = failingSince else { return }
        failingSince = nil
        logger.notice("etcd reachable again after \((.now - since).briefly); following from revision \(revision)")
    }

    /// Sleeps 100 ms doubling to 2 s, with ±25 % jitter so replicas do not retry in step.
    func backOff() async {
        let base = min(100.0 * Double(1 << min(failures, 5)), 2000.0)
        try? await Task.sleep(for: .milliseconds(base * Double.random(in: 0.75...1.25)))
    }
}
