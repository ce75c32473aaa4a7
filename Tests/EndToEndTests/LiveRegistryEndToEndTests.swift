import Foundation
import Testing

/// A registry of many files served by the real binary and edited while dig asks: each edit is
/// answered within a second, only that file's objects change, and nothing is lost on the way.
@Suite struct LiveRegistryEndToEndTests {
    static func service(_ name: String, namespace: String, ip: String, ports: String = "[{name: http, port: 80}]") -> String {
        "apiVersion: v1\nkind: Service\nmetadata: {name: \(name), namespace: \(namespace)}\nspec: {clusterIP: \(ip), ports: \(ports)}\n"
    }

    /// One file per namespace, each holding ten Services.
    static func registry() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (index, namespace) in ["alpha", "beta", "gamma"].enumerated() {
            let text = (1...10).map { service("svc-\($0)", namespace: namespace, ip: "10.96.\(index + 1).\($0)") }.joined(separator: "---\n")
            try text.write(to: directory.appendingPathComponent("\(namespace).yaml"), atomically: true, encoding: .utf8)
        }
        return directory
    }

    /// Waits up to `limit` seconds for `name` to answer `expected` (A records; [] with NXDOMAIN).
    static func waitFor(_ server: ClusterDNSServer, _ name: String, _ expected: [String], status: String = "NOERROR", limit: TimeInterval = 3) throws -> TimeInterval? {
        let start = Date()
        while Date().timeIntervalSince(start) < limit {
            let output = try Client.dig.query(port: server.port, name)
            if output.status == status && output.data(ofType: "A") == expected { return Date().timeIntervalSince(start) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }

    @Test func editsToOneFileOfManyAreAnsweredAndNothingElseIsLost() throws {
        let registry = try Self.registry()
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }
        #expect(try Self.waitFor(server, "svc-5.beta.svc.cluster.local", ["10.96.2.5"]) != nil)

        // Change one Service's address in beta.yaml, renamed into place as editors and tools do.
        var beta = (1...10).map { Self.service("svc-\($0)", namespace: "beta", ip: "10.96.2.\($0)") }
        beta[4] = Self.service("svc-5", namespace: "beta", ip: "10.96.9.5")
        try beta.joined(separator: "---\n").write(to: registry.appendingPathComponent("beta.yaml"), atomically: true, encoding: .utf8)
        let changed = try #require(try Self.waitFor(server, "svc-5.beta.svc.cluster.local", ["10.96.9.5"]), "the edit was never answered")
        #expect(changed < 1.0, "answered \(changed) s after the rename")
        #expect(server.waitForLog(containing: "1 service(s) derived again", timeout: 3), "\(server.log)")

        // Delete one: NXDOMAIN, its neighbours stay.
        beta.remove(at: 2)
        try beta.joined(separator: "---\n").write(to: registry.appendingPathComponent("beta.yaml"), atomically: true, encoding: .utf8)
        #expect(try Self.waitFor(server, "svc-3.beta.svc.cluster.local", [], status: "NXDOMAIN") != nil)
        #expect(try Client.dig.query(port: server.port, "svc-4.beta.svc.cluster.local").data(ofType: "A") == ["10.96.2.4"])

        // A write cut short, inside an object's flow mapping (not YAML) or at the end of a line
        // (YAML, but the last object is incomplete), never takes objects away.
        let whole = beta.joined(separator: "---\n")
        let cut = whole.range(of: "{name: svc-6")!.upperBound
        for (attempt, prefix) in [String(whole[..<cut]), String(whole[..<cut]) + ", namespace: beta}\n"].enumerated() {
            let handle = try FileHandle(forWritingTo: registry.appendingPathComponent("beta.yaml"))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data(prefix.utf8))
            try handle.close()
            let expected = attempt == 0 ? "cannot be used as it is" : "looks cut short"
            #expect(server.waitForLog(containing: expected, timeout: 3), "\(server.log)")
            for index in [1, 5, 6, 10] {
                let output = try Client.dig.query(port: server.port, "svc-\(index).beta.svc.cluster.local")
                #expect(output.status == "NOERROR" && !output.data(ofType: "A").isEmpty, "svc-\(index) lost: \(output)")
            }
        }
        #expect(try Client.dig.query(port: server.port, "svc-7.gamma.svc.cluster.local").data(ofType: "A") == ["10.96.3.7"])
    }

    /// What the API server accepts is served: a digit-leading Service name, an empty protocol, an
    /// unnamed port beside a named one (A records, and SRV for the named port only); an object the
    /// server cannot use is left out and everything else is served.
    @Test func whatTheAPIAcceptsIsServedAndABadObjectStopsNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-accept-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = [
            Self.service("1kubernetes", namespace: "default", ip: "10.96.0.11"),
            Self.service("empty-protocol", namespace: "default", ip: "10.96.0.12", ports: "[{name: http, port: 80, protocol: \"\"}]"),
            Self.service("mixed-ports", namespace: "default", ip: "10.96.0.13", ports: "[{name: http, port: 80}, {port: 8080}]"),
            Self.service("broken", namespace: "default", ip: "10.96.0.999"),
        ].joined(separator: "---\n")
        try text.write(to: directory.appendingPathComponent("default.yaml"), atomically: true, encoding: .utf8)
        let server = try ClusterDNSServer(arguments: ["--registry", directory.path])
        defer { server.stop() }

        #expect(try Client.dig.query(port: server.port, "1kubernetes.default.svc.cluster.local").data(ofType: "A") == ["10.96.0.11"])
        let srv = try Client.dig.query(port: server.port, "_http._tcp.empty-protocol.default.svc.cluster.local", "SRV")
        #expect(srv.data(ofType: "SRV") == ["0 100 80 empty-protocol.default.svc.cluster.local."], "\(srv)")
        #expect(try Client.dig.query(port: server.port, "mixed-ports.default.svc.cluster.local").data(ofType: "A") == ["10.96.0.13"])
        let ports = try Client.dig.query(port: server.port, "mixed-ports.default.svc.cluster.local", "SRV").data(ofType: "SRV")
        #expect(ports.sorted() == ["0 50 80 mixed-ports.default.svc.cluster.local.", "0 50 8080 mixed-ports.default.svc.cluster.local."], "\(ports)")
        #expect(try Client.dig.query(port: server.port, "broken.default.svc.cluster.local").status == "NXDOMAIN")
        #expect(server.log.contains("10.96.0.999"), "the bad object's error is not logged: \(server.log)")
    }
}
