import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Debian's knotd serving master files as their primary, on a free loopback port: a second,
/// independent authoritative server to hold ClusterDNS's static-zone answers against.
final class KnotPrimary: @unchecked Sendable {
    static let binary: String? = ["/usr/sbin/knotd", "/usr/bin/knotd"].first { FileManager.default.isExecutableFile(atPath: $0) }

    let port: Int
    private let child: ChildProcess
    private let directory: URL
    private var stopped = false

    /// Starts knotd for `zones` (origin → master file) and waits (at most 10 s) until it answers
    /// the first origin's SOA.
    init(zones: [(origin: String, file: String)]) throws {
        guard let binary = Self.binary else { throw ProcessFailure(description: "knotd is not installed (apt-get install knot; .ci/run does)") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-knot-\(UUID().uuidString)")
        // knotd's journal and timers need their folder to exist (test-peers.md).
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("storage"), withIntermediateDirectories: true)
        let port = try freeLoopbackPort()
        let zoneLines = zones.map { "  - domain: \($0.origin)\n    file: \"\($0.file)\"\n" }.joined()
        let configuration = """
            server:
              listen: 127.0.0.1@\(port)
              rundir: "\(directory.path)"
            database:
              storage: "\(directory.path)/storage"
            log:
              - target: stderr
                any: info
            template:
              - id: default
                storage: "\(directory.path)/storage"
                zonefile-sync: -1
                journal-content: none
            zone:
            \(zoneLines)
            """
        let path = directory.appendingPathComponent("knot.conf")
        try configuration.write(to: path, atomically: true, encoding: .utf8)
        child = try ChildProcess([binary, "-c", path.path])
        self.port = port
        for _ in 0..<50 {
            if let answer = try? run("kdig", ["@127.0.0.1", "-p", String(port), zones[0].origin, "SOA", "+short", "+time=1", "+retry=0"], timeout: 5),
                !answer.stdout.isEmpty
            {
                return
            }
            var status: Int32 = 0
            if waitpid(child.pid, &status, WNOHANG) == child.pid { break }
            usleep(200_000)
        }
        let log = child.stderr
        stop()
        throw ProcessFailure(description: "knotd did not answer; its log:\n\(log)")
    }

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
