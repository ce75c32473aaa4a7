import ArgumentParser
import ClusterZones
import DNSServer
import DNSWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceRegistry
import Synchronization

/// `clusterdns serve`: answer the cluster's names over UDP and TCP, reloading the registry live.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the Kubernetes DNS spec for a registry of manifests over UDP and TCP."
    )

    @Option(name: .customLong("registry"), help: "Manifest file or directory (repeatable). Default: the example cluster in zones/.")
    var registryPaths: [String] = []

    @OptionGroup var etcd: EtcdOptions

    @Option(help: "Address to listen on, UDP and TCP (HOST:PORT; port 0 picks a free one).")
    var listen: String = "127.0.0.1:5353"

    @Option(help: "The cluster domain.")
    var domain: String = "cluster.local"

    @Option(help: "TTL of every answer, and the SOA minimum (negative caching).")
    var ttl: UInt32 = 5

    @Option(help: "Pod records: disabled, insecure or verified.")
    var pods: PodMode = .disabled

    @OptionGroup var cidrs: ServiceCIDROptions

    @OptionGroup var forwarding: ForwardingOptions

    @Option(help: "UDP sockets and event loops (SO_REUSEPORT). Default: the number of cores.")
    var threads: Int = System.coreCount

    @Option(name: .customLong("udp-engine"), help: "batch (recvmmsg/sendmmsg on a thread per socket, Linux) or nio (SwiftNIO channels).")
    var udpEngine: UDPEngine = .default

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("rrl"), help: "Response rate limit: UDP responses a second per client netblock (IPv4 /24, IPv6 /56). Default: off.")
    var responsesPerSecond: Int?

    @Option(name: .customLong("rrl-slip"), help: "With --rrl, every Nth limited response is sent truncated (so real clients retry over TCP), the rest dropped; 0 drops all.")
    var slip: Int = 2

    @Option(name: .customLong("compiled-names-limit"), help: "Compile every name's answers (the fast path, about 210 bytes a name) only while the registry has at most this many names (about 3 a Service, 1 an address); above it the zones answer, with a per-thread cache of recent answers. 0: never compile.")
    var compiledNamesLimit: Int = QueryPipeline.defaultCompiledNamesLimit

    func validate() throws {
        guard ListenAddress(listen) != nil else {
            throw ValidationError("--listen \(listen) is not HOST:PORT (for example 127.0.0.1:5353 or [::1]:5353)")
        }
        guard (try? DNSName(domain)) != nil else { throw ValidationError("--domain \(domain) is not a domain name") }
        guard ttl <= 3600 else { throw ValidationError("--ttl must be between 0 and 3600") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a log level") }
        if !etcd.endpoints.isEmpty, !registryPaths.isEmpty { throw ValidationError("--registry and --etcd are two registries; give one") }
        if let responsesPerSecond, responsesPerSecond < 1 { throw ValidationError("--rrl must be at least 1 response a second") }
        guard slip >= 0 else { throw ValidationError("--rrl-slip must be 0 or more") }
        guard compiledNamesLimit >= 0 else { throw ValidationError("--compiled-names-limit must be 0 or more") }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = {
            var logger = Logger(label: "clusterdns")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return logger
        }()
        if !etcd.endpoints.isEmpty {
            try await serveFromEtcd(logger: logger)
            return
        }
        let paths = try ExampleCluster.paths(or: registryPaths)
        let source = ManifestSource(paths: paths, options: cidrs.registryOptions, logger: logger)
        // Armed before anything is bound, so a SIGTERM right after startup is never lost. A SIGHUP
        // before the watcher runs is kept by the source for the watcher's first poll.
        let running = RunningListener()
        let signals = ServeSignals.stopping(running, logger: logger) {
            logger.info("received SIGHUP, reloading the registry")
            source.reload()
        }
        defer { signals.cancel() }
        logger.info("loading the registry from \(paths.joined(separator: ", "))")
        let loadStart = ContinuousClock.now
        let loaded = source.load()
        let loadTime = ContinuousClock.now - loadStart
        // A path that does not exist, or holds no manifests, is a mistake to stop at. Bad objects are
        // not: each is left out (or keeps its last good version) and the rest is served.
        let pathFailed = loaded.errors.contains { $0.code == .noManifests || ($0.code == .unreadableFile && paths.contains($0.location?.file ?? "")) }
        guard !loaded.files.isEmpty, !pathFailed else {
            FileHandle.standardError.write(Data(loaded.report.utf8))
            logger.critical("the registry paths hold no manifests to serve")
            throw ExitCode(1)
        }
        for error in loaded.errors {
            if error.isWarning { logger.warning("\(error)") } else { logger.error("\(error)") }
        }
        if !loaded.hardErrors.isEmpty {
            logger.error("\(loaded.hardErrors.count) object(s) left out for errors (listed above); serving the rest")
        }
        releaseFreedMemory()
        let zoneConfiguration = try zoneConfiguration()
        let zoneDomain = zoneConfiguration.domain
        let zonesStart = ContinuousClock.now
        let forwarder = try forwarding.makeForwarder(logger: logger)
        defer { forwarder?.shutdown() }
        let pipeline = QueryPipeline(
            catalog: Catalog(snapshot: loaded.snapshot, configuration: zoneConfiguration), compiledNamesLimit: compiledNamesLimit,
            forwarder: forwarder)
        let zonesTime = ContinuousClock.now - zonesStart

        let listener = try await startListener(pipeline, running: running, logger: logger)
        try await forwarding.refuseLoop(forwarder, listener: listener, logger: logger)
        let snapshot = loaded.snapshot
        logger.info("serving \(zoneDomain.description), in-addr.arpa., ip6.arpa. from \(paths.joined(separator: ", ")): \(snapshot.serviceCount) services in \(snapshot.namespaceCount) namespaces, serial \(snapshot.serial) (loaded in \(loadTime.briefly), zones built in \(zonesTime.briefly))")
        logger.info("listening on \(ListenAddress(host: listener.host, port: listener.port)) (UDP and TCP)")
        compileAnswers(pipeline, logger: logger)

        let watching = source.startWatching { update in
            let start = ContinuousClock.now
            let patched = pipeline.apply(update)
            logger.info("serving serial \(update.snapshot.serial): \(update.snapshot.serviceCount) services; \(patched.names) names compiled again (\(patched.shardsCopied) table shards copied) in \((ContinuousClock.now - start).briefly)")
        }
        try await listener.waitUntilClosed()
        watching.stop()
    }
}

extension PodMode: ExpressibleByArgument {}
extension UDPEngine: ExpressibleByArgument {}

/// Turns SIGINT and SIGTERM into a clean shutdown instead of an abrupt exit, and SIGHUP (whose
/// default action would kill the server) into a reload of the registry, as daemons do.
/// Unchecked: the sources are fixed at init and dispatch sources are thread-safe.
final class ServeSignals: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(onShutdown: @escaping @Sendable (String) -> Void, onReload: @escaping @Sendable () -> Void) {
        let handlers: [(Int32, @Sendable () -> Void)] = [
            (SIGINT, { onShutdown("SIGINT") }),
            (SIGTERM, { onShutdown("SIGTERM") }),
            (SIGHUP, onReload),
        ]
        var sources: [any DispatchSourceSignal] = []
        for (number, handler) in handlers {
            signal(number, SIG_IGN)
            // A serial queue per signal: two SIGHUPs never reload at once.
            let source = DispatchSource.makeSignalSource(signal: number, queue: DispatchQueue(label: "clusterdns.signal.\(number)"))
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}

/// Encodes every answer of the published catalog (served meanwhile the general way), hands the
/// memory the load and the compile freed back to the system, and says what that took.
func compileAnswers(_ pipeline: QueryPipeline, logger: Logger) {
    let start = ContinuousClock.now
    let compiled = pipeline.compileAnswers()
    let elapsed = ContinuousClock.now - start
    releaseFreedMemory()
    guard let compiled else {
        let names = AnswerTable.estimatedNameCount(of: pipeline.catalog)
        logger.notice("answers not compiled: about \(names) names, over --compiled-names-limit \(pipeline.compiledNamesLimit); the zones answer, with each thread's cache of recent answers")
        return
    }
    logger.info("compiled the answers of \(compiled.names) names (\(compiled.bytes / 1024) KiB) in \(elapsed.briefly)")
}

/// Hands the memory freed after a registry load (file texts, YAML trees) back to the system, so the
/// resident size reflects the registry served rather than the peak of reading it.
func releaseFreedMemory() {
    #if os(Linux)
    _ = glibcMallocTrim(0)
    #endif
}

#if os(Linux)
/// glibc's `malloc_trim` (malloc.h is not part of Swift's Glibc module).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
