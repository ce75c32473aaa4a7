import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real etcd cluster on loopback for a test: members on free ports, data in /dev/shm (tmpfs
/// halves write latency), killed and removed when the test ends, pass or fail. The recipe is
/// `shared/research/etcd-registry.md` §1.2.
final class EtcdCluster: @unchecked Sendable {
    struct Member {
        let name: String
        let clientPort: Int
        let peerPort: Int
        var process: ChildProcess?
        var clientURL: String { "http://127.0.0.1:\(clientPort)" }
    }

    /// The etcd binary, or nil when it is not installed (the tests that need it are then skipped).
    static let binary: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/etcd"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static var isInstalled: Bool { binary != nil }

    private(set) var members: [Member]
    let dataDirectory: String
    private let token = "clusterdns-\(UUID().uuidString.prefix(8))"

    /// Starts `size` members and waits (at most 20 s) until every one reports health.
    init(size: Int = 3) throws {
        guard Self.binary != nil else { throw ProcessFailure(description: "etcd is not installed (apt-get install etcd-server etcd-client)") }
        dataDirectory = "/dev/shm/clusterdns-etcd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let ports = try freePorts(2 * size)
        members = (0..<size).map { Member(name: "m\($0 + 1)", clientPort: ports[2 * $0], peerPort: ports[2 * $0 + 1]) }
        do {
            for index in members.indices { try start(index, state: "new") }
            for index in members.indices { try waitHealthy(index, timeout: 20) }
        } catch {
            stop()
            throw error
        }
    }

    /// `http://127.0.0.1:a,http://127.0.0.1:b,...`, as `--etcd` takes them.
    var endpointList: String { members.map(\.clientURL).joined(separator: ",") }

    private var initialCluster: String {
        members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
    }

    private func start(_ index: Int, state: String) throws {
        let member = members[index]
        members[index].process = try ChildProcess([
            Self.binary!, "--name", member.name, "--data-dir", "\(dataDirectory)/\(member.name)",
            "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", initialCluster, "--initial-cluster-state", state,
            "--initial-cluster-token", token, "--log-level", "warn", "--logger", "zap",
        ])
    }

    /// SIGKILL, as a crash; the member's data stays for `restart`.
    func kill(_ index: Int) {
        guard let process = members[index].process else { return }
        Glibc.kill(process.pid, SIGKILL)
        process.wait(timeout: 10)
        process.removeFiles()
        members[index].process = nil
    }

    /// SIGSTOP: the member keeps its connections open and says nothing, as a hung or partitioned
    /// machine would. `resume` or `kill` ends it.
    func pause(_ index: Int) {
        if let process = members[index].process { Glibc.kill(process.pid, SIGSTOP) }
    }

    func resume(_ index: Int) {
        if let process = members[index].process { Glibc.kill(process.pid, SIGCONT) }
    }

    /// Starts a killed member again on its data; waits for its health when `waiting`.
    func restart(_ index: Int, waiting: Bool = true) throws {
        try start(index, state: "existing")
        if waiting { try waitHealthy(index, timeout: 20) }
    }

    var isRunning: [Bool] { members.map { $0.process != nil } }

    /// Polls `/health` until it says true (members restarted after a quorum loss took up to 7 s here).
    func waitHealthy(_ index: Int, timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let body = try? run("curl", ["-fsS", "--max-time", "1", members[index].clientURL + "/health"], timeout: 3).stdout,
               body.contains("\"health\":\"true\"") { return }
            usleep(50_000)
        }
        let logs = members.map { "\($0.name): \($0.process.map { String($0.stderr.suffix(1500)) } ?? "(not running)")" }.joined(separator: "\n")
        throw ProcessFailure(description: "etcd member \(members[index].name) was not healthy within \(timeout) s; the members' logs:\n\(logs)")
    }

    /// The index of the current leader, by `/v3/maintenance/status` of the running members.
    func leader() throws -> Int {
        for index in members.indices where members[index].process != nil {
            let result = try run("curl", ["-fsS", "--max-time", "2", "-X", "POST", members[index].clientURL + "/v3/maintenance/status", "-d", "{}"], timeout: 5)
            guard let status = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                  let header = status["header"] as? [String: Any],
                  let member = header["member_id"] as? String, let leader = status["leader"] as? String else { continue }
            if member == leader { return index }
        }
        throw ProcessFailure(description: "no running member says it is the leader")
    }

    /// Runs etcdctl (API v3) against the running members.
    @discardableResult
    func etcdctl(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let endpoints = members.filter { $0.process != nil }.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",")
        var environment = ProcessInfo.processInfo.environment
        environment["ETCDCTL_API"] = "3"
        return try run("etcdctl", ["--endpoints=\(endpoints)", "--command-timeout=5s"] + arguments, timeout: 30, environment: environment)
    }

    /// Kills every member and removes the data.
    func stop() {
        for index in members.indices { kill(index) }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    deinit { stop() }
}

/// Ports this test process has handed out: suites run in parallel, and a port picked for one
/// cluster is closed again until its etcd binds it, so another pick could land on it meanwhile.
private let portsHandedOut = Mutex<Set<Int>>([])

/// The kernel's range of ephemeral ports (`net.ipv4.ip_local_port_range`), 32768–60999 unless set.
private let ephemeralPorts: ClosedRange<Int> = {
    let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
    let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    guard bounds.count == 2, bounds[0] <= bounds[1] else { return 32768...60999 }
    return bounds[0]...bounds[1]
}()

/// Free loopback TCP ports for servers that are stopped and started again on the same port, held
/// open together while picked so none repeats, and never one this process handed out before.
///
/// They come from below the kernel's ephemeral range: while such a server is down, any outgoing
/// connection on the machine (or a client retrying it, connected to itself) could otherwise be
/// given its port as a source port and hold it, and the restart fails with EADDRINUSE (seen in
/// CI). Only an explicit bind takes a port outside that range.
func freePorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { for socket in sockets { close(socket) } }
    let candidates = 10_240..<max(10_241, min(ephemeralPorts.lowerBound, 32_768))
    var ports: [Int] = []
    var tries = 0
    while ports.count < count {
        tries += 1
        guard tries < 10 * count + 100 else { throw ProcessFailure(description: "no free ports found") }
        let port = Int.random(in: candidates)
        guard !portsHandedOut.withLock({ $0.contains(port) }) else { continue }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProcessFailure(description: "socket: \(String(cString: strerror(errno)))") }
        sockets.append(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        // In use by someone else: try another.
        guard bound else { continue }
        if portsHandedOut.withLock({ $0.insert(port).inserted }) { ports.append(port) }
    }
    return ports
}
