import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP, as an operator or a config manager sends it, re-reads the registry and the server keeps
/// answering; it used to kill the server (exit status 129, nothing logged).
@Suite(.serialized) struct ReloadSignalEndToEndTests {
    @Test func sighupReloadsTheRegistryAndTheServerKeepsAnswering() throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }
        let pid = server.pid

        #expect(kill(pid, SIGHUP) == 0)
        #expect(server.waitForLog(containing: "received SIGHUP, reloading the registry", timeout: 5), "\(server.log)")
        #expect(server.waitForLog(containing: "registry re-read", timeout: 5), "\(server.log)")

        #expect(isRunning(pid), "clusterdns serve exited on SIGHUP; its log:\n\(server.log)")
        let output = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local")
        #expect(output.data(ofType: "A") == ["10.96.0.1"], "\(output)")
    }

    /// An edit in place that keeps the size and puts the mtime back (as `rsync --inplace -t` can)
    /// leaves no trace polling looks at; SIGHUP is how an operator makes it visible.
    @Test func sighupLoadsAnEditThatPollingCannotSee() throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }
        let pid = server.pid

        let file = registry.appendingPathComponent("cluster.yaml")
        var original = stat()
        try #require(stat(file.path, &original) == 0)
        let edited = EndToEndRegistry.manifests.replacingOccurrences(of: "clusterIP: 10.96.0.1\n", with: "clusterIP: 10.96.0.2\n")
        try #require(edited != EndToEndRegistry.manifests)
        try edited.write(to: file, atomically: false, encoding: .utf8)
        var times = [original.st_atim, original.st_mtim]
        try #require(utimensat(AT_FDCWD, file.path, &times, 0) == 0)

        // Several poll intervals: polling alone does not see the edit.
        Thread.sleep(forTimeInterval: 1)
        let before = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local")
        #expect(before.data(ofType: "A") == ["10.96.0.1"], "\(before)")

        #expect(kill(pid, SIGHUP) == 0)
        #expect(server.waitForLog(containing: "registry updated (serial", timeout: 5), "\(server.log)")
        let after = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local")
        #expect(after.data(ofType: "A") == ["10.96.0.2"], "\(after)")
        #expect(isRunning(pid), "clusterdns serve exited on SIGHUP; its log:\n\(server.log)")
    }

    /// Alive and not a zombie waiting to be reaped (`kill(pid, 0)` succeeds for those too).
    private func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != nil && state != "Z"
    }
}
