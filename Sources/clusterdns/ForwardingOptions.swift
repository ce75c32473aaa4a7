import ArgumentParser
import DNSServer
import Forwarding
import Logging

/// The `serve` flags of forwarding and its cache, named after CoreDNS's forward and cache plugins'
/// settings. Without `--forward` nothing is forwarded: names outside every zone are REFUSED, so a
/// server is never an open resolver by accident.
struct ForwardingOptions: ParsableArguments {
    @Option(
        name: .customLong("forward"),
        help: ArgumentHelp(
            "Upstream resolver for names outside every zone: ADDRESS[:PORT] (repeatable, at most 15), or a resolv.conf path whose nameservers are used (--forward /etc/resolv.conf). Default: none, such names are REFUSED.",
            valueName: "upstream"))
    var upstreams: [String] = []

    @Option(help: "The order upstreams are tried in: random, round_robin or sequential.")
    var policy: UpstreamPolicy = .random

    @Option(name: .customLong("forward-timeout"), help: "How long a forwarded query may take over every upstream tried (each gets at most 2s), e.g. 5s.")
    var deadline: DurationArgument = DurationArgument(.seconds(5))

    @Option(name: .customLong("max-concurrent"), help: "Forwarded queries in flight at once; more are answered REFUSED.")
    var maxConcurrent: Int = 1000

    @Option(name: .customLong("health-check"), help: "Between health probes (. IN NS) of an upstream that failed, e.g. 500ms.")
    var healthCheck: DurationArgument = DurationArgument(.milliseconds(500))

    @Option(name: .customLong("max-fails"), help: "Failed health probes after which an upstream is skipped until it answers; 0 never skips one.")
    var maxFails: Int = 2

    @Option(name: .customLong("cache-size"), help: "Forwarded answers cached (positive and negative); 0 turns the cache off.")
    var cacheSize: Int = 9984

    @Option(name: .customLong("cache-max-ttl"), help: "The longest a positive forwarded answer is cached, in seconds.")
    var cacheMaxTTL: UInt32 = 3600

    @Option(name: .customLong("cache-max-denial-ttl"), help: "The longest a negative forwarded answer (NXDOMAIN, NODATA) is cached, in seconds.")
    var cacheMaxDenialTTL: UInt32 = 1800

    @Option(name: .customLong("serve-stale"), help: "How long past expiry a cached answer may be served (TTL 30) when no upstream answers (RFC 8767), e.g. 1h; 0 never.")
    var serveStale: DurationArgument = DurationArgument(.seconds(3600))

    @Option(name: .customLong("prefetch"), help: "Hits a cached answer needs to be refreshed before it expires (when 10% of its TTL is left); 0 never.")
    var prefetch: Int = 3

    func validate() throws {
        guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1") }
        guard maxFails >= 0, cacheSize >= 0, prefetch >= 0 else { throw ValidationError("--max-fails, --cache-size and --prefetch must be 0 or more") }
        guard deadline.duration > .zero, healthCheck.duration > .zero else { throw ValidationError("--forward-timeout and --health-check must be longer than 0") }
        _ = try configuration()
    }

    /// The configuration the flags give; nil without `--forward`.
    func configuration() throws -> ForwardingConfiguration? {
        guard !upstreams.isEmpty else { return nil }
        let addresses: [UpstreamAddress]
        do {
            addresses = try UpstreamAddress.list(from: upstreams)
        } catch {
            throw ValidationError("--forward: \(error)")
        }
        guard addresses.count <= ForwardingConfiguration.maxUpstreams else {
            throw ValidationError("--forward names \(addresses.count) upstreams; at most \(ForwardingConfiguration.maxUpstreams)")
        }
        return ForwardingConfiguration(
            upstreams: addresses, policy: policy, deadline: deadline.duration, maxConcurrent: maxConcurrent,
            healthCheckInterval: healthCheck.duration, maxFails: maxFails,
            cache: ForwardCacheConfiguration(
                capacity: cacheSize, maxTTL: cacheMaxTTL, maxDenialTTL: cacheMaxDenialTTL, staleWindow: serveStale.duration, prefetchHits: prefetch))
    }

    /// The forwarder the flags ask for; nil without `--forward`.
    func makeForwarder(logger: Logger, observer: UpstreamReplyObserver? = nil) throws -> Forwarder? {
        guard let configuration = try configuration() else { return nil }
        let forwarder = try Forwarder(configuration: configuration, logger: logger, observer: observer)
        logger.info("forwarding names outside every zone to \(configuration.upstreams.map(\.description).joined(separator: ", ")) (policy \(configuration.policy.rawValue), cache \(configuration.cache.capacity) entries)")
        return forwarder
    }

    /// Sends the loop probe once the listener answers; when it comes back, logs why, stops the
    /// listener and exits 1 (a forwarding loop would turn every outside query into a storm).
    func refuseLoop(_ forwarder: Forwarder?, listener: DNSListener, logger: Logger) async throws {
        guard let forwarder else { return }
        do {
            try await forwarder.detectLoop()
        } catch {
            logger.critical("forwarding loop detected: \(error)")
            forwarder.shutdown()
            try? await listener.shutdown()
            throw ExitCode(1)
        }
    }
}

extension UpstreamPolicy: ExpressibleByArgument {}

/// A duration as CoreDNS writes them: `500ms`, `2s`, `5m`, `1h`, or plain seconds.
struct DurationArgument: ExpressibleByArgument, Sendable {
    var duration: Duration

    init(_ duration: Duration) {
        self.duration = duration
    }

    init?(argument: String) {
        let units: [(suffix: String, duration: (Double) -> Duration)] = [
            ("ms", { .milliseconds($0) }), ("s", { .seconds($0) }), ("m", { .seconds($0 * 60) }), ("h", { .seconds($0 * 3600) }),
        ]
        for unit in units where argument.hasSuffix(unit.suffix) {
            guard let value = Double(argument.dropLast(unit.suffix.count)), value >= 0 else { return nil }
            duration = unit.duration(value)
            return
        }
        guard let seconds = Double(argument), seconds >= 0 else { return nil }
        duration = .seconds(seconds)
    }

    var defaultValueDescription: String { "\(duration)" }
}
