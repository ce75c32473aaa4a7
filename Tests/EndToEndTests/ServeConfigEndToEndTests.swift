import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `serve --config FILE` as a ConfigMap mounted into a pod would give it.
@Suite(.serialized) struct ServeConfigEndToEndTests {
    private func writeConfig(_ text: String, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("clusterdns.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theFileConfiguresTheServerAndFlagsOverrideIt() throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let config = try writeConfig("""
            registry: [\(registry.path)]
            ttl: 60
            threads: 1
            http-listen: 127.0.0.1:0
            """, in: registry)
        let server = try ClusterDNSServer(arguments: ["--config", config, "--ttl", "7"])
        defer { server.stop() }
        #expect(server.httpPort != nil, "http-listen from the file: \(server.log)")
        let answer = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local")
        #expect(answer.data(ofType: "A") == ["10.96.0.1"], "\(answer)")
        // dig's answer line: name TTL class type data; the flag's TTL wins over the file's.
        #expect(answer.answers.first?.split(separator: " ").dropFirst().first == "7", "\(answer)")
    }

    @Test(arguments: [
        ("ttl: lots\n", "--ttl"),
        ("no-such-flag: 1\n", "no-such-flag"),
        ("- listen\n", "expected a mapping"),
        ("registry: {a: b}\n", "found a mapping"),
    ])
    func anInvalidFileIsAClearErrorNamingIt(content: String, mention: String) throws {
        let directory = try makeRegistry([:])
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try writeConfig(content, in: directory)
        let result = try run(BuiltProducts.clusterdns, ["serve", "--config", config, "--listen", "127.0.0.1:0"], timeout: 10)
        #expect(result.status != 0)
        #expect(result.stderr.contains("--config \(config)"), "\(result.stderr)")
        #expect(result.stderr.contains(mention), "\(result.stderr)")
    }

    @Test func sighupKeepsTheRunningConfigurationForAnInvalidFileAndAppliesAValidOnesZoneSettings() throws {
        let registry = try EndToEndRegistry.directory()
        defer { try? FileManager.default.removeItem(at: registry) }
        let config = try writeConfig("registry: \(registry.path)\nttl: 30\n", in: registry)
        let server = try ClusterDNSServer(arguments: ["--config", config, "--threads", "1"])
        defer { server.stop() }

        try "registry: \(registry.path)\nttl: [broken\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(kill(server.pid, SIGHUP) == 0)
        #expect(server.waitForLog(containing: "is invalid, keeping the running configuration", timeout: 5), "\(server.log)")
        let answer = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local")
        #expect(answer.answers.first?.split(separator: " ").dropFirst().first == "30", "\(answer)")

        // A zone setting applies at once; a listener setting waits for a restart, and says so.
        try "registry: \(registry.path)\nttl: 40\nrrl: 100\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(kill(server.pid, SIGHUP) == 0)
        #expect(server.waitForLog(containing: "applied ttl", timeout: 5), "\(server.log)")
        #expect(server.waitForLog(containing: "changes rrl, which take effect when the server restarts", timeout: 5), "\(server.log)")
        let reconfigured = try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local")
        #expect(reconfigured.answers.first?.split(separator: " ").dropFirst().first == "40", "\(reconfigured)")
        #expect(reconfigured.data(ofType: "A") == ["10.96.0.1"], "\(reconfigured)")

        // An external zone is a zone setting too: held from the SIGHUP on.
        #expect(try Client.dig.query(port: server.port, "example.com", "SOA").status == "REFUSED")
        try "registry: \(registry.path)\nttl: 40\nrrl: 100\nexternal-zone: [example.com]\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(kill(server.pid, SIGHUP) == 0)
        #expect(server.waitForLog(containing: "applied external-zone", timeout: 5), "\(server.log)")
        let external = try Client.dig.query(port: server.port, "example.com", "SOA")
        #expect(external.status == "NOERROR" && external.data(ofType: "SOA").first?.hasPrefix("ns1.dns.example.com.") == true, "\(external)")
    }

    /// Verified pod names read the Pods by address, which the registry keeps only when the server
    /// starts needing them: switched on by SIGHUP they wait for a restart, and say so; a server
    /// started verified keeps the index and switches back and forth at once.
    @Test func verifiedPodNamesApplyAtOnceOnlyWhenTheServerStartedWithThem() throws {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: shop}\nstatus: {phase: Running, podIP: 10.244.3.7}\n"
        let registry = try makeRegistry(["pods.yaml": pod])
        defer { try? FileManager.default.removeItem(at: registry) }
        let held = "10-244-3-7.shop.pod.cluster.local"
        let unheld = "10-244-9-9.shop.pod.cluster.local"

        let config = try writeConfig("registry: \(registry.path)\npods: insecure\n", in: registry)
        let insecure = try ClusterDNSServer(arguments: ["--config", config, "--threads", "1"])
        defer { insecure.stop() }
        #expect(try Client.dig.query(port: insecure.port, unheld).data(ofType: "A") == ["10.244.9.9"])
        try "registry: \(registry.path)\npods: verified\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(kill(insecure.pid, SIGHUP) == 0)
        #expect(insecure.waitForLog(containing: "changes pods, which take effect when the server restarts", timeout: 5), "\(insecure.log)")
        #expect(try Client.dig.query(port: insecure.port, unheld).data(ofType: "A") == ["10.244.9.9"], "still insecure: \(insecure.log)")
        insecure.stop()

        let verified = try ClusterDNSServer(arguments: ["--config", config, "--threads", "1"])
        defer { verified.stop() }
        #expect(try Client.dig.query(port: verified.port, unheld).status == "NXDOMAIN")
        #expect(try Client.dig.query(port: verified.port, held).data(ofType: "A") == ["10.244.3.7"])
        try "registry: \(registry.path)\npods: insecure\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(kill(verified.pid, SIGHUP) == 0)
        #expect(verified.waitForLog(containing: "applied pods", timeout: 5), "\(verified.log)")
        #expect(try Client.dig.query(port: verified.port, unheld).data(ofType: "A") == ["10.244.9.9"])
        try "registry: \(registry.path)\npods: verified\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(kill(verified.pid, SIGHUP) == 0)
        let deadline = Date().addingTimeInterval(5)
        while verified.log.components(separatedBy: "applied pods").count < 3 && Date() < deadline { usleep(20_000) }
        #expect(verified.log.components(separatedBy: "applied pods").count == 3, "\(verified.log)")
        #expect(try Client.dig.query(port: verified.port, unheld).status == "NXDOMAIN")
        #expect(try Client.dig.query(port: verified.port, held).data(ofType: "A") == ["10.244.3.7"])
    }
}
