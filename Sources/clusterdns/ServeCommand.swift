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

    @Option(name: .customLong("zone-file"), help: ArgumentHelp("A static zone: an RFC 1035 master file served authoritatively for ORIGIN (repeatable). Every *.zone file in the --registry directories is one too, its origin the file's name without .zone.", valueName: "ORIGIN=PATH"))
    var zoneFiles: [String] = []

    @OptionGroup var etcd: EtcdOptions

    @OptionGroup var kubernetes: KubernetesOptions

    @OptionGroup var operations: OperationsOptions

    @Flag(help: "Server-side search: a query for <name>.<ns>.svc.<zone> from a client whose namespace the registry knows (a Pod or an endpoint at its address) that would be NXDOMAIN is answered with the first later search-path expansion that exists (svc.<zone>, <zone>, the bare name from the forwarder's cache), as a CNAME from the asked name.")
    var autopath = false

    @Option(help: "A YAML file of serve's settings, keyed by flag name without dashes (listen: 0.0.0.0:53); flags given here override it. SIGHUP checks it again.")
    var config: String?

    @Option(help: "Address to listen on, UDP and TCP (HOST:PORT; port 0 picks a free one).")
    var listen: String = "127.0.0.1:5353"

    @Option(help: "The cluster domain.")
    var domain: String = "cluster.local"

    @Option(name: .customLong("external-zone"), help: "A zone of the Services reachable from outside (CoreDNS's k8s_external): <svc>.<ns>.<zone> answers their externalIPs and load-balancer ingress. Repeatable.")
    var externalZones: [String] = []

    @Option(help: "TTL of every answer, and the SOA minimum (negative caching).")
    var ttl: UInt32 = 5

    @Option(help: "Pod records: disabled, insecure or verified.")
    var pods: PodMode = .disabled

    @OptionGroup var cidrs: ServiceCIDROptions

    /// Whether anything reads Pods by address: pod names in `verified` mode and autopath. Decided
    /// at start: the Kubernetes source then watches Pods at all, and every source keeps the index.
    var readsPodsByAddress: Bool { pods == .verified || autopath }

    /// The registry's options: the service ranges, and the Pods-by-address index only when read
    /// (a million Pods' index is some 50 MB).
    var registryOptions: RegistryOptions {
        var options = cidrs.registryOptions
        options.indexesPodsByAddress = readsPodsByAddress
        return options
    }

    @OptionGroup var forwarding: ForwardingOptions

    @OptionGroup var transfers: TransferOptions

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

    @Option(name: .customLong("compiled-names-limit"), help: "Compile every name's answers (the fast path, about 180 bytes a name) only while the registry has at most this many names (about 3 a Service, 1 an address); above it the zones answer, with a per-thread cache of recent answers. 0: never compile.")
    var compiledNamesLimit: Int = QueryPipeline.defaultCompiledNamesLimit

    func validate() throws {
        guard ListenAddress(listen) != nil else {
            throw ValidationError("--listen \(listen) is not HOST:PORT (for example 127.0.0.1:5353 or [::1]:5353)")
        }
        guard let clusterDomain = try? DNSName(domain) else { throw ValidationError("--domain \(domain) is not a domain name") }
        for zone in externalZones {
            guard let origin = try? DNSName(zone), origin.labelCount > 0 else { throw ValidationError("--external-zone \(zone) is not a domain name") }
            let reverse = [try DNSName("in-addr.arpa"), try DNSName("ip6.arpa")]
            for other in [clusterDomain] + reverse where origin.isSubdomain(of: other) || other.isSubdomain(of: origin) {
                throw ValidationError("--external-zone \(zone) overlaps \(other): the external zone must be apart from the cluster domain and the reverse zones")
            }
        }
        guard ttl <= 3600 else { throw ValidationError("--ttl must be between 0 and 3600") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a log level") }
        let registries = [!registryPaths.isEmpty, !etcd.endpoints.isEmpty, kubernetes.isEnabled].filter { $0 }.count
        if registries > 1 { throw ValidationError("--registry, --etcd and --kubernetes/--kubeconfig are different registries; give one") }
        if kubernetes.inCluster, kubernetes.kubeconfig != nil { throw ValidationError("--kubernetes (in a pod) and --kubeconfig are two ways to the API server; give one") }
        if let responsesPerSecond, responsesPerSecond < 1 { throw ValidationError("--rrl must be at least 1 response a second") }
        guard slip >= 0 else { throw ValidationError("--rrl-slip must be 0 or more") }
        guard compiledNamesLimit >= 0 else { throw ValidationError("--compiled-names-limit must be 0 or more") }
        _ = try namedZoneFiles()
    }

    /// `--zone-file ORIGIN=PATH`s, each checked against the registry's zones.
    func namedZoneFiles() throws -> [StaticZoneFile] {
        let configuration = try zoneConfiguration()
        return try zoneFiles.map { argument in
            guard let file = StaticZoneFile(argument: argument) else {
                throw ValidationError("--zone-file \(argument) is not ORIGIN=PATH (for example example.internal=/etc/zones/example.internal.zone)")
            }
            if let conflict = StaticZoneFile.conflict(of: file.origin, with: configuration) {
                throw ValidationError("--zone-file \(argument): \(conflict)")
            }
            return file
        }
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
        if kubernetes.isEnabled {
            try await serveFromKubernetes(logger: logger)
            return
        }
        let paths = try ExampleCluster.paths(or: registryPaths)
        let source = ManifestSource(paths: paths, options: registryOptions, logger: logger)
        // Up first, so probes answer (not ready) while the registry loads.
        let ops = try await ServeOperations.start(operations, dnsListen: listen, waitingFor: ["registry"], logger: logger)
        // Armed before anything is bound, so a SIGTERM right after startup is never lost. A SIGHUP
        // before the watcher runs is kept by the source for the watcher's first poll.
        let running = RunningListener()
        let staticZones = StaticZoneLoader(registryPaths: paths, namedFiles: try namedZoneFiles(), configuration: try zoneConfiguration())
        let signals = ServeSignals.stopping(running, logger: logger) {
            rereadConfig(running.pipeline, logger: logger)
            logger.info("received SIGHUP, reloading the registry")
            source.reload()
            // A pipeline not there yet serves the first reading, which comes after.
            if let pipeline = running.pipeline {
                staticZones.read(forced: true) { serveStaticZones($0, pipeline: pipeline, logger: logger) }
            }
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
        let zonesStart = ContinuousClock.now
        let zoneTransfers = try await transfers.makeTransfers(listenHost: ListenAddress(listen)!.host, logger: logger)
        let forwarder = try forwarding.makeForwarder(logger: logger, observer: ops.forwardingMetrics?.observer)
        ops.add(forwarder)
        defer { forwarder?.shutdown() }
        let pipeline = QueryPipeline(
            catalog: Catalog(snapshot: loaded.snapshot, configuration: zoneConfiguration, staticZones: staticZones.firstZones(logger: logger)),
            compiledNamesLimit: compiledNamesLimit,
            metrics: ops.queryMetrics, forwarder: forwarder, autopath: autopath, transfers: zoneTransfers)
        let zonesTime = ContinuousClock.now - zonesStart

        let listener = try await startListener(pipeline, running: running, logger: logger)
        try await forwarding.refuseLoop(forwarder, listener: listener, logger: logger)
        let snapshot = loaded.snapshot
        logger.info("serving \(zoneConfiguration.servedZones) from \(paths.joined(separator: ", ")): \(snapshot.serviceCount) services in \(snapshot.namespaceCount) namespaces, serial \(snapshot.serial) (loaded in \(loadTime.briefly), zones built in \(zonesTime.briefly))")
        logger.info("listening on \(ListenAddress(host: listener.host, port: listener.port)) (UDP and TCP)")
        // A secondary that kept an older copy across our restart hears of the serial at once.
        zoneTransfers?.announce(pipeline.catalog)
        ops.registryMetrics?.published(snapshot, invalidObjects: loaded.hardErrors.count)
        ops.readiness.markReady("registry")

        let watch = ManifestWatchService(source: source, first: { compileAnswers(pipeline, logger: logger) }) { update in
            let start = ContinuousClock.now
            let patched = pipeline.apply(update)
            ops.registryMetrics?.applied(update)
            logger.info("serving serial \(update.snapshot.serial): \(update.snapshot.serviceCount) services; \(patched.names) names compiled again (\(patched.shardsCopied) table shards copied) in \((ContinuousClock.now - start).briefly)")
        }
        try await runServiceGroup(
            dns: DNSListenerService(listener: listener, readiness: ops.readiness, lameduck: operations.lameduck, logger: logger),
            sources: [watch, StaticZoneWatchService(loader: staticZones, pipeline: pipeline, logger: logger)],
            operations: ops.server, running: running, logger: logger)
    }
}

extension ServeCommand {
    /// SIGHUP with `--config`: the file is read and checked again. An invalid file changes nothing
    /// (the running configuration stays, and the log says why). A valid one's zone settings (domain,
    /// ttl, pods, external zones) are applied at once, to the registry served; the others are fixed at start, and
    /// a changed one is named in the log, to take effect on restart. The registry is re-read either way.
    /// The settings running now, by flag (`ServeConfigFile.settings`): those serve started with
    /// (set by `main`), then each zone setting a SIGHUP applied.
    static let runningSettings = Mutex<[String: [String]]>([:])

    func rereadConfig(_ pipeline: QueryPipeline?, logger: Logger) {
        guard let config else { return }
        let commandLine = Array(CommandLine.arguments.drop { $0 != "serve" }.dropFirst())
        let reread: ServeCommand
        let arguments: [String]
        do {
            arguments = try ServeConfigFile.expand(serveArguments: commandLine)
            reread = try ServeCommand.parse(arguments)
        } catch {
            logger.error("received SIGHUP: --config \(config) is invalid, keeping the running configuration: \(ServeCommand.message(for: error))")
            return
        }
        // What runs now: the start's settings, with the zone settings a SIGHUP applied since.
        let running = Self.runningSettings.withLock { $0 }
        let rereadSettings = ServeConfigFile.settings(of: arguments)
        let changed = ServeConfigFile.changedSettings(from: running, to: rereadSettings)
        var live = changed.filter(ServeConfigFile.zoneSettings.contains)
        var later = changed.filter { !ServeConfigFile.zoneSettings.contains($0) }
        // Verified pod names read Pods by address, which the registry keeps only when the server
        // started needing them; switched on later, they wait for the restart that keeps them.
        if let index = live.firstIndex(of: "pods"), reread.pods == .verified, !readsPodsByAddress {
            later.append(live.remove(at: index))
        }
        if changed.isEmpty { logger.info("received SIGHUP: --config \(config) is valid and unchanged") }
        if !live.isEmpty, let pipeline, var configuration = try? reread.zoneConfiguration() {
            if !live.contains("pods") { configuration.podMode = pipeline.catalog.configuration.podMode }
            pipeline.reconfigure(configuration)
            Self.runningSettings.withLock { settings in
                for key in live { settings[key] = rereadSettings[key] }
            }
            logger.notice("received SIGHUP: --config \(config): applied \(live.joined(separator: ", "))")
            compileAnswers(pipeline, logger: logger)
        }
        if !later.isEmpty {
            logger.warning("received SIGHUP: --config \(config) changes \(later.joined(separator: ", ")), which take effect when the server restarts; the registry is re-read now")
        }
    }
}

extension PodMode: ExpressibleByArgument {}
extension UDPEngine: ExpressibleByArgument {}

/// SIGHUP (whose default action would kill the server) becomes a reload of the registry, as daemons
/// do; SIGINT and SIGTERM are the service group's graceful shutdown, and handled here only while
/// there is no group yet (exit) and when repeated (stop at once).
/// Unchecked: the sources are fixed at init and dispatch sources are thread-safe.
final class ServeSignals: @unchecked Sendable {
    private let reader: Thread

    /// The write end of the pipe the C handler writes each signal's number into: a handler may
    /// only make async-signal-safe calls, and `write` is one.
    nonisolated(unsafe) fileprivate static var pipeWriteEnd: Int32 = -1

    /// Installs real handlers with sigaction: the disposition is the process's, so no thread,
    /// whatever its signal mask, can take a signal's default action (for SIGTERM: being killed
    /// before the lameduck). Dispatch's signal sources read a signalfd on Linux, which sees only
    /// signals blocked in every thread; threads it does not control left SIGTERM deadly there.
    init(onShutdown: @escaping @Sendable (String) -> Void, onReload: @escaping @Sendable () -> Void) {
        var ends: [Int32] = [0, 0]
        pipe(&ends)
        Self.pipeWriteEnd = ends[1]
        let readEnd = ends[0]
        // One thread reads and handles them in order: two SIGHUPs never reload at once.
        reader = Thread {
            var number: Int32 = 0
            while read(readEnd, &number, MemoryLayout<Int32>.size) == MemoryLayout<Int32>.size {
                switch number {
                case SIGINT: onShutdown("SIGINT")
                case SIGTERM: onShutdown("SIGTERM")
                case SIGHUP: onReload()
                default: break
                }
            }
        }
        reader.start()
        for number in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var number = number
                _ = write(ServeSignals.pipeWriteEnd, &number, MemoryLayout<Int32>.size)
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(number, &action, nil)
        }
    }

    /// Signals are ignored from now on (the server is stopping anyway).
    func cancel() {
        for number in [SIGINT, SIGTERM, SIGHUP] { signal(number, SIG_IGN) }
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
        if pipeline.stoppedCompiling {
            logger.info("answers not compiled: shutting down")
            return
        }
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
