import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Where the built `clusterdns` lives: next to the test bundle, in the same build directory.
enum BuiltProducts {
    static var directory: URL {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent()
    }

    static var clusterdns: String { directory.appendingPathComponent("clusterdns").path }

    /// The checkout's root (for `zones/`).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

struct ProcessFailure: Error, CustomStringConvertible {
    var description: String
}

/// A child process started with posix_spawn, its output going to files. Foundation's `Process`
/// occasionally never reports an exit on Linux when many children run at once; waitpid always does.
struct ChildProcess {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String

    init(_ arguments: [String], environment: [String: String]? = nil) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        stdoutPath = directory.appendingPathComponent("stdout").path
        stderrPath = directory.appendingPathComponent("stderr").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Nothing else of the test process: sockets opened without CLOEXEC (a test's own servers)
        // would otherwise live on in the child, holding their ports after the test closes them.
        _ = spawnActionsCloseFrom(&actions, 3)
        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp)
        guard status == 0 else {
            throw ProcessFailure(description: "cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for the exit, at most `timeout` seconds, then kills it. Returns the exit status
    /// (128 + signal number when a signal ended it).
    @discardableResult
    func wait(timeout: TimeInterval) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 { return -1 }
            if Date() >= deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(5_000)
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    func removeFiles() {
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: stdoutPath).deletingLastPathComponent().path)
    }
}

/// A `clusterdns serve` started on a free loopback port, stopped when the test ends.
final class ClusterDNSServer: @unchecked Sendable {
    private let child: ChildProcess
    private(set) var port = 0
    private var stopped = false

    /// Starts the server and waits (at most 30 s) for its "listening on" line.
    /// - Parameters:
    ///   - listen: the address to listen on; a free port of 127.0.0.1 by default.
    ///   - launcher: a command that ends by exec'ing its arguments, run in front of the server
    ///     (e.g. `unshare --mount sh -c '... exec "$@"' sh`), so the pid stays the server's.
    ///   - environment: the server's whole environment; the tests' own by default.
    init(arguments: [String], listen: String = "127.0.0.1:0", launcher: [String] = [], environment: [String: String]? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: BuiltProducts.clusterdns) else {
            throw ProcessFailure(description: "\(BuiltProducts.clusterdns) is missing: run `swift build` before `swift test`")
        }
        // No lameduck unless a test asks for one: each stop would otherwise wait 5 s.
        let lameduck = arguments.contains("--lameduck") ? [] : ["--lameduck", "0"]
        child = try ChildProcess(launcher + [BuiltProducts.clusterdns, "serve", "--listen", listen] + lameduck + arguments, environment: environment)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let port = listeningPort() {
                self.port = port
                return
            }
            var status: Int32 = 0
            if waitpid(child.pid, &status, WNOHANG) == child.pid {
                stopped = true
                break
            }
            usleep(20_000)
        }
        let log = self.log
        stop()
        throw ProcessFailure(description: "clusterdns serve did not start listening; its log:\n\(log)")
    }

    var log: String { child.stderr }

    /// The server's process, for signals.
    var pid: pid_t { child.pid }

    /// The port of `--http-listen` (its log line comes before the DNS listener's).
    var httpPort: Int? {
        let log = self.log
        guard let range = log.range(of: #"/ready on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) else { return nil }
        return Int(log[range].split(separator: ":").last ?? "")
    }

    private func listeningPort() -> Int? {
        let log = self.log
        guard let range = log.range(of: #"listening on 127\.\d+\.\d+\.\d+:(\d+)"#, options: .regularExpression) else { return nil }
        return Int(log[range].split(separator: ":").last ?? "")
    }

    /// Waits until the log contains `text`, at most `timeout` seconds.
    func waitForLog(containing text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains(text) { return true }
            usleep(20_000)
        }
        return false
    }

    /// SIGTERM, as an operator would send; a server that does not exit within 10 s is killed and
    /// the test that stopped it fails.
    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(child.pid, SIGTERM)
        let status = child.wait(timeout: 10)
        #expect(status == 0, "clusterdns serve did not exit cleanly on SIGTERM (status \(status)); its log:\n\(log)")
        child.removeFiles()
    }

    deinit { stop() }
}

/// Runs a command to completion (bounded by `timeout`) and returns its exit status and output.
@discardableResult
func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 30, environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let child = try ChildProcess([executable] + arguments, environment: environment)
    defer { child.removeFiles() }
    let status = child.wait(timeout: timeout)
    return (status, child.stdout, child.stderr)
}

/// A temporary registry directory with the given files, removed by the caller.
func makeRegistry(_ files: [String: String]) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, content) in files {
        try content.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return directory
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module leaves out.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnActionsCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) -> Int32
