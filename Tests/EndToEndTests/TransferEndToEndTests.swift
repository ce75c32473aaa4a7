import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Zone transfers with real peers: kdig and dig pull the zones by AXFR, an address outside
/// `--transfer-to` is refused, and knotd and nsd, configured as secondaries, pull the cluster
/// zone, answer as ClusterDNS does, and follow a registry change through NOTIFY and IXFR.
@Suite(.serialized) struct TransferEndToEndTests {
    static func service(_ name: String, namespace: String, ip: String) -> String {
        "apiVersion: v1\nkind: Service\nmetadata: {name: \(name), namespace: \(namespace)}\nspec: {clusterIP: \(ip), ports: [{name: http, port: 80}]}\n"
    }

    static func headless(_ name: String, namespace: String, addresses: [String]) -> String {
        let endpoints = addresses.enumerated().map { "{addresses: [\($1)], hostname: h\($0), conditions: {ready: true}}" }
        return """
            apiVersion: v1
            kind: Service
            metadata: {name: \(name), namespace: \(namespace)}
            spec: {clusterIP: None, ports: [{name: peer, port: 7000}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: \(name)-1, namespace: \(namespace), labels: {kubernetes.io/service-name: \(name)}}
            addressType: IPv4
            endpoints: [\(endpoints.joined(separator: ", "))]
            ports: [{name: peer, port: 7000, protocol: TCP}]

            """
    }

    /// A registry of `count` ClusterIP Services in two namespaces and one headless Service.
    static func registry(count: Int) throws -> URL {
        let services = (0..<count).map { service("svc-\($0)", namespace: $0 % 2 == 0 ? "alpha" : "beta", ip: "10.96.\($0 / 250).\($0 % 250 + 1)") }
        return try makeRegistry([
            "services.yaml": services.joined(separator: "---\n"),
            "headless.yaml": headless("db", namespace: "alpha", addresses: ["10.244.0.1", "10.244.0.2", "10.244.0.3"]),
        ])
    }

    /// Record lines as `clusterdns export` writes them for `zone` (SOA left out: its serial is the
    /// export's), whitespace collapsed, lower case.
    static func exported(_ registry: URL, zone: String) throws -> [String] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-xfr-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try run(BuiltProducts.clusterdns, ["export", "--registry", registry.path, "--output", output.path, "--name-server-address", "127.0.0.1"])
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOf: output.appendingPathComponent("\(zone).zone"), encoding: .utf8)
        return Self.recordLines(text).filter { !$0.contains(" soa ") }
    }

    /// The record lines of a master file or of dig/kdig output, normalized.
    static func recordLines(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix(";"), !line.hasPrefix("$"), !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ").lowercased()
        }
    }

    /// `tool AXFR zone` against the server, from `source` when given.
    static func axfr(_ tool: String, port: Int, zone: String, server: String = "127.0.0.1", source: String? = nil, extra: [String] = []) throws -> (status: Int32, output: String) {
        var arguments = ["@\(server)", "-p", String(port), zone, "AXFR", "+time=10"] + extra
        if let source { arguments = ["-b", source] + arguments }
        let result = try run(tool, arguments, timeout: 60)
        return (result.status, result.stdout + result.stderr)
    }

    /// A port free for UDP and TCP on 127.0.0.1 now (bound and released).
    static func freePort() throws -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20000..<60000)
            var free = true
            for type in [SOCK_STREAM, SOCK_DGRAM] {
                let descriptor = socket(AF_INET, Int32(type.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                close(descriptor)
                if bound != 0 { free = false }
            }
            if free { return port }
        }
        throw ProcessFailure(description: "no free port found")
    }

    /// Waits up to `limit` seconds for `check`, polling every 20 ms.
    static func eventually(_ limit: TimeInterval, _ check: () throws -> Bool) rethrows -> TimeInterval? {
        let start = Date()
        while Date().timeIntervalSince(start) < limit {
            if try check() { return Date().timeIntervalSince(start) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }

    static func answers(_ port: Int, _ name: String, _ type: String) throws -> (status: String, data: [String]) {
        let output = try run("dig", ["@127.0.0.1", "-p", String(port), name, type, "+norecurse", "+tries=1", "+time=3"], timeout: 20)
        // A server still starting answers nothing: no status, which `eventually` waits out.
        guard let parsed = try? DigOutput(parsing: output.stdout + output.stderr) else { return ("no answer", []) }
        return (parsed.status, parsed.data(ofType: type).sorted())
    }

    static let sampleQuestions: [(String, String)] = [
        ("svc-0.alpha.svc.cluster.local", "A"), ("svc-7.beta.svc.cluster.local", "A"), ("svc-7.beta.svc.cluster.local", "SRV"),
        ("_http._tcp.svc-4.alpha.svc.cluster.local", "SRV"), ("db.alpha.svc.cluster.local", "A"), ("h1.db.alpha.svc.cluster.local", "A"),
        ("_peer._tcp.db.alpha.svc.cluster.local", "SRV"), ("dns-version.cluster.local", "TXT"), ("cluster.local", "NS"),
        ("missing.alpha.svc.cluster.local", "A"),
    ]

    // MARK: - kdig and dig

    @Test("AXFR of each zone lists exactly what clusterdns export writes", arguments: ["kdig", "dig"])
    func axfrListsWhatExportWrites(tool: String) throws {
        let registry = try Self.registry(count: 40)
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--transfer-to", "127.0.0.0/8"])
        defer { server.stop() }
        for zone in ["cluster.local", "in-addr.arpa"] {
            let (status, output) = try Self.axfr(tool, port: server.port, zone: zone)
            #expect(status == 0, "\(output)")
            let lines = Self.recordLines(output)
            let soas = lines.filter { $0.contains(" soa ") }
            #expect(soas.count == 2 && lines.first == lines.last, "\(zone): not framed by its SOA:\n\(output)")
            let exported = try Self.exported(registry, zone: zone)
            #expect(lines.count - 2 == exported.count, "\(zone): \(lines.count - 2) records transferred, \(exported.count) exported")
            #expect(lines.filter { !$0.contains(" soa ") }.sorted() == exported.sorted())
        }
        #expect(server.waitForLog(containing: "AXFR of cluster.local. to 127.0.0.1: sent", timeout: 3), "\(server.log)")
    }

    @Test func axfrFromOutsideTransferToIsRefusedAndFromInsideSent() throws {
        let registry = try Self.registry(count: 10)
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--transfer-to", "127.0.0.2/32"])
        defer { server.stop() }
        let refused = try Self.axfr("kdig", port: server.port, zone: "cluster.local", source: "127.0.0.3")
        #expect(refused.output.contains("REFUSED"), "\(refused.output)")
        #expect(Self.recordLines(refused.output).isEmpty)
        let allowed = try Self.axfr("kdig", port: server.port, zone: "cluster.local", source: "127.0.0.2")
        #expect(Self.recordLines(allowed.output).count > 10, "\(allowed.output)")
        // Over UDP a transfer is not defined: NOTIMP, as Knot DNS answers.
        let overUDP = try run("kdig", ["@127.0.0.1", "-p", String(server.port), "cluster.local", "AXFR", "+notcp", "+time=3", "+retry=0"], timeout: 20)
        #expect((overUDP.stdout + overUDP.stderr).contains("NOTIMP"), "\(overUDP.stdout)")
    }

    @Test func withoutTransferToEveryTransferIsRefused() throws {
        let registry = try Self.registry(count: 4)
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }
        let refused = try Self.axfr("kdig", port: server.port, zone: "cluster.local")
        #expect(refused.output.contains("REFUSED"), "\(refused.output)")
        let ixfr = try run("kdig", ["@127.0.0.1", "-p", String(server.port), "cluster.local", "IXFR=1", "+time=3"], timeout: 20)
        #expect((ixfr.stdout + ixfr.stderr).contains("REFUSED"), "\(ixfr.stdout)")
    }

    /// A 2,000-Service zone (the 50k one is Benchmarks/load/axfr.sh's): the transfer spans many
    /// messages, and the server answers other queries while it runs.
    @Test func aLargeZoneTransfersWhole() throws {
        let registry = try Self.registry(count: 2000)
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--transfer-to", "127.0.0.1"])
        defer { server.stop() }
        let (status, output) = try Self.axfr("kdig", port: server.port, zone: "cluster.local")
        #expect(status == 0)
        let exported = try Self.exported(registry, zone: "cluster.local")
        #expect(Self.recordLines(output).count - 2 == exported.count)
        #expect(output.range(of: #"\(([2-9]|[1-9][0-9]+) messages"#, options: .regularExpression) != nil, "one message only:\n\(output.suffix(300))")
    }

    // MARK: - Real secondaries

    @Test func knotdFollowsTheClusterZoneThroughNotifyAndIXFR() throws {
        let registry = try Self.registry(count: 20)
        defer { try? FileManager.default.removeItem(at: registry) }
        let knotPort = try Self.freePort()
        let server = try ClusterDNSServer(arguments: [
            "--registry", registry.path, "--transfer-to", "127.0.0.1/32", "--notify", "127.0.0.1:\(knotPort)",
        ])
        defer { server.stop() }
        let knot = try KnotSecondary(port: knotPort, primaryPort: server.port)
        defer { knot.stop() }

        let pulled = try Self.eventually(20) { try Self.answers(knotPort, "svc-0.alpha.svc.cluster.local", "A").data == ["10.96.0.1"] }
        #expect(pulled != nil, "knotd never served the zone; its log:\n\(knot.log)\nours:\n\(server.log)")
        for (name, type) in Self.sampleQuestions {
            let theirs = try Self.answers(knotPort, name, type)
            let ours = try Self.answers(server.port, name, type)
            #expect(theirs.status == ours.status && theirs.data == ours.data, "\(name) \(type): knotd \(theirs), ClusterDNS \(ours)")
        }

        // A new Service: NOTIFY, then knotd asks for IXFR and gets the difference.
        let added = Self.service("fresh", namespace: "beta", ip: "10.96.200.1")
        try added.write(to: registry.appendingPathComponent("fresh.yaml"), atomically: true, encoding: .utf8)
        #expect(try Self.eventually(5) { try Self.answers(server.port, "fresh.beta.svc.cluster.local", "A").data == ["10.96.200.1"] } != nil)
        let followed = try Self.eventually(5) { try Self.answers(knotPort, "fresh.beta.svc.cluster.local", "A").data == ["10.96.200.1"] }
        let elapsed = try #require(followed, "knotd never served the new Service; its log:\n\(knot.log)\nours:\n\(server.log)")
        #expect(elapsed < 1.0, "knotd followed the change \(elapsed) s after ClusterDNS served it")
        #expect(server.waitForLog(containing: "IXFR of cluster.local. to 127.0.0.1: sent", timeout: 3), "\(server.log)")
        #expect(knot.log.contains("IXFR, incoming"), "knotd did not use IXFR:\n\(knot.log)")
    }

    @Test func nsdPullsTheClusterZoneAndAnswersTheSame() throws {
        let registry = try Self.registry(count: 20)
        defer { try? FileManager.default.removeItem(at: registry) }
        let nsdPort = try Self.freePort()
        let server = try ClusterDNSServer(arguments: [
            "--registry", registry.path, "--transfer-to", "127.0.0.1/32", "--notify", "127.0.0.1:\(nsdPort)",
        ])
        defer { server.stop() }
        let nsd = try NSDSecondary(port: nsdPort, primaryPort: server.port)
        defer { nsd.stop() }
        let pulled = try Self.eventually(20) { try Self.answers(nsdPort, "svc-0.alpha.svc.cluster.local", "A").data == ["10.96.0.1"] }
        #expect(pulled != nil, "nsd never served the zone; its log:\n\(nsd.log)\nours:\n\(server.log)")
        for (name, type) in Self.sampleQuestions {
            let theirs = try Self.answers(nsdPort, name, type)
            let ours = try Self.answers(server.port, name, type)
            #expect(theirs.status == ours.status && theirs.data == ours.data, "\(name) \(type): nsd \(theirs), ClusterDNS \(ours)")
        }
        let added = Self.service("fresh", namespace: "beta", ip: "10.96.200.1")
        try added.write(to: registry.appendingPathComponent("fresh.yaml"), atomically: true, encoding: .utf8)
        let followed = try Self.eventually(5) { try Self.answers(nsdPort, "fresh.beta.svc.cluster.local", "A").data == ["10.96.200.1"] }
        #expect(followed != nil, "nsd never served the new Service; its log:\n\(nsd.log)\nours:\n\(server.log)")
    }
}

/// knotd as a secondary of the cluster zone, in a folder of its own: the configuration the README
/// shows, with ClusterDNS as its master and NOTIFY from it allowed.
final class KnotSecondary: @unchecked Sendable {
    private let child: ChildProcess
    let directory: URL
    private var stopped = false

    static func configuration(directory: String, port: Int, primaryPort: Int) -> String {
        """
        server:
            listen: 127.0.0.1@\(port)
            rundir: \(directory)
        log:
          - target: stderr
            any: info
        database:
            storage: \(directory)/storage
        remote:
          - id: clusterdns
            address: 127.0.0.1@\(primaryPort)
        acl:
          - id: notify-from-clusterdns
            address: 127.0.0.1
            action: notify
        template:
          - id: default
            storage: \(directory)/storage
            zonefile-sync: -1
            zonefile-load: none
            journal-content: changes
        zone:
          - domain: cluster.local
            master: clusterdns
            acl: notify-from-clusterdns

        """
    }

    init(port: Int, primaryPort: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-knot-\(UUID().uuidString)")
        // knotd's journal fails with "not exists" unless its storage folder is there first.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("storage"), withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("knot.conf")
        try Self.configuration(directory: directory.path, port: port, primaryPort: primaryPort).write(to: config, atomically: true, encoding: .utf8)
        child = try ChildProcess(["knotd", "-c", config.path])
    }

    var log: String { child.stderr + child.stdout }

    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(child.pid, SIGTERM)
        child.wait(timeout: 10)
        child.removeFiles()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

/// nsd as a second secondary, with its pidfile, database and zone folder in a folder of its own.
final class NSDSecondary: @unchecked Sendable {
    private let child: ChildProcess
    let directory: URL
    private var stopped = false

    init(port: Int, primaryPort: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-nsd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.path
        let config = """
            server:
                ip-address: 127.0.0.1
                port: \(port)
                username: ""
                chroot: ""
                zonesdir: "\(path)"
                pidfile: "\(path)/nsd.pid"
                database: ""
                zonelistfile: "\(path)/zone.list"
                xfrdfile: "\(path)/xfrd.state"
                xfrdir: "\(path)"
                logfile: "\(path)/nsd.log"
                verbosity: 2
                server-count: 1
            remote-control:
                control-enable: no
            zone:
                name: cluster.local
                zonefile: "cluster.local.zone"
                request-xfr: 127.0.0.1@\(primaryPort) NOKEY
                allow-notify: 127.0.0.1 NOKEY

            """
        let file = directory.appendingPathComponent("nsd.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        child = try ChildProcess(["nsd", "-d", "-c", file.path])
    }

    var log: String { ((try? String(contentsOf: directory.appendingPathComponent("nsd.log"), encoding: .utf8)) ?? "") + child.stderr }

    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(child.pid, SIGTERM)
        child.wait(timeout: 10)
        child.removeFiles()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
