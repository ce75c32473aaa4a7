import Foundation
import Testing

/// Static zones served by the real binary: `*.zone` files in the registry directories, answered
/// as the file says (read independently by `ldns-read-zone`), reloaded live, and checked by `check`.
@Suite struct StaticZoneEndToEndTests {
    static var exampleZone: String { BuiltProducts.packageRoot.appendingPathComponent("zones/example.internal.zone").path }

    /// The file as `ldns-read-zone -c` prints it: (owner, type) → the RRset's lines, whitespace collapsed.
    static func rrsets(ofZoneFile path: String) throws -> [String: Set<String>] {
        let result = try run("ldns-read-zone", ["-c", path])
        #expect(result.status == 0, "ldns-read-zone \(path): \(result.stderr)")
        var rrsets: [String: Set<String>] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 5 else { continue }
            rrsets["\(fields[0]) \(fields[3])", default: []].insert(fields.joined(separator: " "))
        }
        return rrsets
    }

    static let service = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.96.0.20, ports: [{port: 80}]}\n"

    @Test func everyRRsetOfTheExampleZoneIsAnsweredAsTheFileHoldsIt() throws {
        let server = try ClusterDNSServer(arguments: ["--registry", BuiltProducts.packageRoot.appendingPathComponent("zones").path])
        defer { server.stop() }
        let rrsets = try Self.rrsets(ofZoneFile: Self.exampleZone)
        #expect(rrsets.count >= 10, "\(rrsets.keys)")
        var asked = 0
        for (key, expected) in rrsets.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: " ").map(String.init)
            let (owner, type) = (parts[0], parts[1])
            // The delegation and its glue are another server's: the referral is checked below.
            if owner.hasSuffix("lab.example.internal.") { continue }
            let output = try Client.dig.query(port: server.port, owner, type)
            #expect(output.status == "NOERROR", "\(key): \(output)")
            #expect(output.flags.contains("aa"), "\(key): \(output)")
            // Synthesized from the wildcard, the owner is the asked name; ldns prints `*`, dig the name.
            #expect(Set(output.answers) == expected, "\(key): \(output)")
            asked += 1
        }
        #expect(asked >= 9)

        let referral = try Client.dig.query(port: server.port, "host.lab.example.internal", "A")
        #expect(referral.status == "NOERROR" && !referral.flags.contains("aa") && referral.answers.isEmpty, "\(referral)")
        #expect(referral.authority == ["lab.example.internal. 300 IN NS ns.lab.example.internal."], "\(referral)")
        #expect(referral.additional.contains("ns.lab.example.internal. 300 IN A 192.0.2.53"), "\(referral)")

        let wildcard = try Client.dig.query(port: server.port, "Shop.Apps.example.internal", "A")
        #expect(wildcard.data(ofType: "A") == ["192.0.2.80"], "\(wildcard)")
        let chased = try Client.dig.query(port: server.port, "docs.example.internal", "A")
        #expect(chased.answers == ["docs.example.internal. 300 IN CNAME www.example.internal.", "www.example.internal. 300 IN A 192.0.2.10"], "\(chased)")
        let missing = try Client.dig.query(port: server.port, "nothing.example.internal", "A")
        #expect(missing.status == "NXDOMAIN" && missing.flags.contains("aa"), "\(missing)")
        #expect(missing.authority.first?.hasPrefix("example.internal. 60 IN SOA ns1.example.internal. hostmaster.example.internal. ") == true, "\(missing)")
        let empty = try Client.dig.query(port: server.port, "voice.example.internal", "A")
        #expect(empty.status == "NOERROR" && empty.answers.isEmpty && empty.authority.count == 1, "\(empty)")
        // The cluster zone is answered beside it, from the answer table as before.
        #expect(try Client.dig.query(port: server.port, "kubernetes.default.svc.cluster.local").data(ofType: "A") == ["10.96.0.1"])
    }

    /// Waits up to `limit` seconds for `name` to answer `expected` (A records) with `status`.
    static func waitFor(_ server: ClusterDNSServer, _ name: String, _ expected: [String], status: String = "NOERROR", limit: TimeInterval = 3) throws -> Bool {
        let start = Date()
        while Date().timeIntervalSince(start) < limit {
            let output = try Client.dig.query(port: server.port, name)
            if output.status == status && output.data(ofType: "A") == expected { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    static func zone(www address: String) -> String {
        "$TTL 60\n@ IN SOA ns hostmaster 1 3600 600 86400 5\n  IN NS ns\nns IN A 192.0.2.1\nwww IN A \(address)\n"
    }

    @Test func aZoneFileEditIsAnsweredABrokenOneKeepsTheLastGoodZoneAndADeletedOneIsGone() throws {
        let registry = try makeRegistry(["web.yaml": Self.service, "live.test.zone": Self.zone(www: "192.0.2.10")])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }
        let file = registry.appendingPathComponent("live.test.zone")
        #expect(try Self.waitFor(server, "www.live.test", ["192.0.2.10"]), "\(server.log)")

        // Line 5 breaks: the log names the file and the line, and the last good zone is served.
        try (Self.zone(www: "192.0.2.10") + "bad IN A 192.0.2.999\n").write(to: file, atomically: true, encoding: .utf8)
        #expect(server.waitForLog(containing: "\(file.path):6: ", timeout: 3), "\(server.log)")
        #expect(server.log.contains("its last good zone is served"), "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "www.live.test").data(ofType: "A") == ["192.0.2.10"])

        try Self.zone(www: "192.0.2.11").write(to: file, atomically: true, encoding: .utf8)
        #expect(try Self.waitFor(server, "www.live.test", ["192.0.2.11"]), "\(server.log)")

        try FileManager.default.removeItem(at: file)
        #expect(try Self.waitFor(server, "www.live.test", [], status: "REFUSED"), "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "web.shop.svc.cluster.local").data(ofType: "A") == ["10.96.0.20"])
    }

    /// A static zone transfers as its file holds it: AXFR framed by the file's own SOA (its MNAME
    /// and serial, not the cluster zone's), every record of the file once; IXFR from that serial
    /// is the SOA alone.
    @Test func aStaticZoneTransfersAsItsFileHoldsIt() throws {
        let server = try ClusterDNSServer(arguments: [
            "--registry", BuiltProducts.packageRoot.appendingPathComponent("zones").path, "--transfer-to", "127.0.0.1/32",
        ])
        defer { server.stop() }
        let transfer = try TransferEndToEndTests.axfr("kdig", port: server.port, zone: "example.internal")
        #expect(transfer.status == 0, "\(transfer.output)")
        let records = TransferEndToEndTests.recordLines(transfer.output).map { $0.split(separator: " ").map(String.init) }.filter { $0.count >= 5 }
        #expect(records.first?[3] == "soa" && records.last?[3] == "soa", "\(transfer.output)")
        #expect(records.first?[4] == "ns1.example.internal." && records.first?[6] == "2026112901", "\(transfer.output)")
        let fileRecords = try Self.rrsets(ofZoneFile: Self.exampleZone).values.reduce(0) { $0 + $1.count }
        #expect(records.count == fileRecords + 1, "the file's records and the closing SOA: \(transfer.output)")

        let ixfr = try run("kdig", ["@127.0.0.1", "-p", String(server.port), "example.internal", "IXFR=2026112901", "+time=10"], timeout: 30)
        let ixfrRecords = TransferEndToEndTests.recordLines(ixfr.stdout).filter { !$0.isEmpty }
        #expect(ixfrRecords.count == 1 && ixfrRecords.first?.contains("2026112901") == true, "\(ixfr.stdout)\(ixfr.stderr)")
    }

    @Test func aZoneFileShadowingTheClusterDomainIsAnErrorNotAShadow() throws {
        let shadow = Self.zone(www: "192.0.2.10").replacingOccurrences(of: "www IN A", with: "web.shop.svc IN A")
        let registry = try makeRegistry(["web.yaml": Self.service, "cluster.local.zone": shadow])
        defer { try? FileManager.default.removeItem(at: registry) }
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path])
        defer { server.stop() }
        #expect(server.waitForLog(containing: "cluster.local.zone: the zone cluster.local. is cluster.local., which ClusterDNS serves from the registry", timeout: 3), "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "web.shop.svc.cluster.local").data(ofType: "A") == ["10.96.0.20"])

        let refused = try run(BuiltProducts.clusterdns, ["serve", "--zone-file", "svc.cluster.local=\(Self.exampleZone)"])
        #expect(refused.status != 0 && refused.stderr.contains("may not shadow"), "\(refused.stderr)")
    }

    @Test func aZoneFileNamedOnTheCommandLineIsServedForItsOrigin() throws {
        let registry = try makeRegistry(["web.yaml": Self.service, "corp.txt": Self.zone(www: "192.0.2.30")])
        defer { try? FileManager.default.removeItem(at: registry) }
        let file = registry.appendingPathComponent("corp.txt").path
        let server = try ClusterDNSServer(arguments: ["--registry", registry.path, "--zone-file", "corp.test=\(file)", "--zone-file", "other.test=\(Self.exampleZone)"])
        defer { server.stop() }
        #expect(try Client.dig.query(port: server.port, "www.corp.test").data(ofType: "A") == ["192.0.2.30"])
        // A file whose $ORIGIN puts its SOA elsewhere is not that origin's zone.
        #expect(server.log.contains("\(Self.exampleZone): the SOA is at example.internal., not at the zone's origin other.test."), "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "www.example.internal").status == "REFUSED")
    }

    @Test func checkReportsAZoneFilesErrorWithFileAndLine() throws {
        let registry = try makeRegistry(["web.yaml": Self.service, "broken.test.zone": Self.zone(www: "192.0.2.10") + "\nmail IN MX ten mail\n"])
        defer { try? FileManager.default.removeItem(at: registry) }
        let result = try run(BuiltProducts.clusterdns, ["check", registry.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(registry.appendingPathComponent("broken.test.zone").path + ":7: "), "\(result.stderr)")

        let good = try run(BuiltProducts.clusterdns, ["check", BuiltProducts.packageRoot.appendingPathComponent("zones").path])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("static zones: example.internal."), "\(good.stdout)")
    }
}

/// The same master file served by ClusterDNS and by knotd as its primary: a sample of questions
/// covering each rule gets the same status, AA bit and answer section from both.
@Suite struct StaticZoneKnotComparisonTests {
    static let questions: [(String, String)] = [
        ("example.internal", "SOA"), ("example.internal", "NS"), ("example.internal", "MX"), ("example.internal", "TXT"),
        ("www.example.internal", "A"), ("www.example.internal", "AAAA"), ("www.example.internal", "MX"),
        ("docs.example.internal", "A"), ("docs.example.internal", "AAAA"), ("docs.example.internal", "CNAME"),
        ("_sip._tcp.voice.example.internal", "SRV"), ("voice.example.internal", "A"), ("_tcp.voice.example.internal", "SRV"),
        ("nothing.example.internal", "A"), ("a.nothing.example.internal", "A"),
        ("shop.apps.example.internal", "A"), ("a.b.apps.example.internal", "A"), ("shop.apps.example.internal", "TXT"),
        ("apps.example.internal", "A"), ("WWW.Example.Internal", "A"),
    ]

    @Test func clusterDNSAndKnotAnswerTheExampleZoneAlike() throws {
        let zone = StaticZoneEndToEndTests.exampleZone
        let knot = try KnotPrimary(zones: [("example.internal.", zone)])
        defer { knot.stop() }
        let server = try ClusterDNSServer(arguments: ["--registry", BuiltProducts.packageRoot.appendingPathComponent("zones").path])
        defer { server.stop() }
        var answered = 0
        for (name, type) in Self.questions {
            let ours = try Client.dig.query(port: server.port, name, type)
            let theirs = try Client.dig.query(port: knot.port, name, type)
            if !theirs.answers.isEmpty { answered += 1 }
            #expect(ours.status == theirs.status, "\(name) \(type): ours \(ours.status), knot's \(theirs.status)")
            #expect(ours.flags.contains("aa") == theirs.flags.contains("aa"), "\(name) \(type)")
            #expect(ours.answers == theirs.answers, "\(name) \(type): ours\n\(ours)\nknot's\n\(theirs)")
        }
        // Not a comparison of two silences: knot answered most of them with records.
        #expect(answered >= 13, "knot answered \(answered) of \(Self.questions.count) with records")
        // A referral: knot puts the delegation's NS in authority and the glue in additional, as we do.
        let ours = try Client.dig.query(port: server.port, "host.lab.example.internal", "A")
        let theirs = try Client.dig.query(port: knot.port, "host.lab.example.internal", "A")
        #expect(ours.flags.contains("aa") == theirs.flags.contains("aa"))
        #expect(ours.authority == theirs.authority, "ours\n\(ours)\nknot's\n\(theirs)")
        #expect(Set(ours.additional.filter { !$0.contains("OPT") }) == Set(theirs.additional.filter { !$0.contains("OPT") }), "ours\n\(ours)\nknot's\n\(theirs)")
    }
}
