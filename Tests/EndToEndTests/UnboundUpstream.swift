import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real unbound (Debian's) on a free loopback port, standing in for the internet: an auth-zone
/// for "." answers from a zone file, so a CNAME comes with its target's records, as from a real
/// recursive resolver, and a missing name is NXDOMAIN with the root's SOA. Stopped by the test.
final class UnboundUpstream: @unchecked Sendable {
    static let binary: String? = ["/usr/sbin/unbound", "/usr/bin/unbound"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var isInstalled: Bool { binary != nil }

    /// The names of the stand-in internet. `who.example.` says which upstream answered.
    static func zone(identity: String) -> String {
        let big = (1...12).map { index in
            "big.example.com. 300 IN TXT \"\(String(repeating: "t", count: 200))\(index)\""
        }.joined(separator: "\n")
        return """
            $TTL 300
            . 3600 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60
            . 3600 IN NS ns.example.
            ns.example. 3600 IN A 127.0.0.1
            who.example. 0 IN TXT "\(identity)"
            www.example.com. 300 IN A 93.184.216.34
            short.example.com. 2 IN A 192.0.2.2
            db.example.com. 300 IN CNAME db-host.example.net.
            db-host.example.net. 300 IN A 198.51.100.7
            mail.example.com. 300 IN MX 10 mx1.example.com.
            \(big)

            """
    }

    let port: Int
    /// `127.0.0.1:PORT`, as `--forward` takes it.
    var address: String { "127.0.0.1:\(port)" }
    private let child: ChildProcess
    private let directory: URL
    private var stopped = false

    /// Starts unbound and waits (at most 10 s) until it answers; tries five free ports.
    init(identity: String = "a") throws {
        guard let binary = Self.binary else { throw ProcessFailure(description: "unbound is not installed (apt-get install unbound; .ci/run does)") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-unbound-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.zone(identity: identity).write(to: directory.appendingPathComponent("root.zone"), atomically: true, encoding: .utf8)
        var lastLog = ""
        for _ in 1...5 {
            let port = try freeLoopbackPort()
            let configuration = directory.appendingPathComponent("unbound.conf")
            try Self.configuration(port: port, directory: directory.path).write(to: configuration, atomically: true, encoding: .utf8)
            let child = try ChildProcess([binary, "-d", "-c", configuration.path])
            if Self.waitUntilAnswering(port: port, child: child) {
                self.port = port
                self.child = child
                return
            }
            lastLog = child.stderr
            Glibc.kill(child.pid, SIGKILL)
            child.wait(timeout: 5)
            child.removeFiles()
        }
        try? FileManager.default.removeItem(at: directory)
        throw ProcessFailure(description: "unbound did not start; its log:\n\(lastLog)")
    }

    private static func configuration(port: Int, directory: String) -> String {
        """
        server:
          interface: 127.0.0.1
          port: \(port)
          do-ip6: no
          do-daemonize: no
          username: ""
          chroot: ""
          directory: "\(directory)"
          pidfile: ""
          use-syslog: no
          logfile: ""
          verbosity: 1
          do-not-query-localhost: no
          access-control: 127.0.0.0/8 allow
          module-config: "iterator"
          max-udp-size: 1232
        auth-zone:
          name: "."
          zonefile: "\(directory)/root.zone"
          for-downstream: yes
          for-upstream: yes
        remote-control:
          control-enable: no

        """
    }

    private static func waitUntilAnswering(port: Int, child: ChildProcess) -> Bool {
        for _ in 0..<50 {
            var status: Int32 = 0
            if waitpid(child.pid, &status, WNOHANG) == child.pid { return false }
            if let result = try? run("dig", ["@127.0.0.1", "-p", String(port), "www.example.com", "A", "+short", "+time=1", "+tries=1"], timeout: 5),
                result.stdout.contains("93.184.216.34")
            {
                return true
            }
            usleep(200_000)
        }
        return false
    }

    /// Kills it at once (SIGKILL): an upstream that dies, not one that says goodbye.
    func kill() {
        guard !stopped else { return }
        stopped = true
        Glibc.kill(child.pid, SIGKILL)
        child.wait(timeout: 5)
        child.removeFiles()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { kill() }
}

/// A port free for UDP and TCP on 127.0.0.1 now (the kernel's pick for UDP, released at once).
func freeLoopbackPort() throws -> Int {
    // A port the kernel gives a UDP socket can still be taken for TCP (a client connection's
    // ephemeral port): the servers started on it bind both, and one such clash failed a run.
    for _ in 0..<50 {
        let port = try freeLoopbackPort(type: SOCK_DGRAM, port: 0)
        if (try? freeLoopbackPort(type: SOCK_STREAM, port: port)) != nil { return port }
    }
    throw ProcessFailure(description: "no port free for both UDP and TCP")
}

/// Binds a socket of `type` to 127.0.0.1:`port` (0: any) and releases it; the port it had.
private func freeLoopbackPort(type: __socket_type, port: Int) throws -> Int {
    let descriptor = socket(AF_INET, Int32(type.rawValue), 0)
    guard descriptor >= 0 else { throw ProcessFailure(description: "socket: \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
    guard bound == 0 else { throw ProcessFailure(description: "bind: \(errno)") }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
