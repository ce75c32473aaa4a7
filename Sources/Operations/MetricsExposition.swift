import Prometheus
import Synchronization

/// The text `/metrics` serves: every metric made in the swift-prometheus registry below, then the
/// families written at scrape time by their owners (the query counters summed over threads,
/// values computed when asked such as the age of the last change).
///
/// Metrics are made in the registry directly rather than through swift-metrics: its API carries
/// no help text, and `promtool check metrics` rejects every family without `# HELP`.
public final class MetricsExposition: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let writers: Mutex<[@Sendable () -> String]>

    /// - Parameter writers: each returns whole families (HELP, TYPE, samples) whose names the
    ///   registry does not use.
    public init(registry: PrometheusCollectorRegistry, writers: [@Sendable () -> String]) {
        self.registry = registry
        self.writers = Mutex(writers)
    }

    /// Adds the families of a part that starts later (the forwarder, made after the listener).
    public func add(_ writer: @escaping @Sendable () -> String) {
        writers.withLock { $0.append(writer) }
    }

    /// The Prometheus text format, version 0.0.4.
    public func text() -> String {
        var text = registry.emitToString()
        for writer in writers.withLock({ $0 }) { text += writer() }
        return text
    }
}
