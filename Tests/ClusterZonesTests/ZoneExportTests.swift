import ClusterZones
import DNSWire
import SpecSupport
import Foundation
import ServiceRegistry
import Testing

/// The master files `clusterdns export` writes: the same records `Catalog.answer` gives, in a
/// form that independent zone parsers (ldns, NSD, Knot) accept.
@Suite struct ZoneExportTests {
    static func catalog(podMode: PodMode = .verified) -> Catalog {
        SpecFixture.catalog(podMode: podMode)
    }

    static func exported(podMode: PodMode = .verified) throws -> [ExportedZone] {
        try ZoneExport.zones(of: catalog(podMode: podMode))
    }

    /// The master file read back line by line: (owner, type) → the RRset as dig lines, lower-cased.
    static func parse(_ zone: ExportedZone) -> [String: Set<String>] {
        var rrsets: [String: Set<String>] = [:]
        for line in zone.masterFile.split(separator: "\n") where !line.hasPrefix(";") && !line.hasPrefix("$") {
            let fields = line.split(separator: "\t", maxSplits: 4).map(String.init)
            guard fields.count == 5 else {
                Issue.record("not a record line: \(line)")
                continue
            }
            rrsets["\(fields[0].lowercased()) \(fields[3])", default: []].insert(fields.joined(separator: " ").lowercased())
        }
        return rrsets
    }

    @Test func writesTheClusterZoneAndBothReverseZones() throws {
        let zones = try Self.exported()
        #expect(zones.map(\.fileName) == ["cluster.local.zone", "in-addr.arpa.zone", "ip6.arpa.zone"])
        for zone in zones {
            #expect(zone.records.first?.type == .soa)
            #expect(zone.records.first?.name == zone.origin)
            #expect(zone.records.dropFirst().first?.type == .ns)
            #expect(zone.records.filter { $0.type == .soa }.count == 1)
            for record in zone.records {
                #expect(record.name.isSubdomain(of: zone.origin), "\(record) lies outside \(zone.origin)")
            }
        }
    }

    /// A sample written by hand from the fixture: what must be there, and what must not.
    @Test func holdsTheExpectedRecordsOfTheFixture() throws {
        let zones = try Self.exported()
        let cluster = Self.parse(zones[0])
        let reverse4 = Self.parse(zones[1])
        let reverse6 = Self.parse(zones[2])
        #expect(cluster["cluster.local. SOA"] == ["cluster.local. 5 in soa ns.dns.cluster.local. hostmaster.cluster.local. \(SpecFixture.snapshot.serial) 7200 1800 86400 5"])
        #expect(cluster["cluster.local. NS"] == ["cluster.local. 5 in ns ns.dns.cluster.local."])
        #expect(cluster["ns.dns.cluster.local. A"] == ["ns.dns.cluster.local. 5 in a 127.0.0.1"])
        #expect(cluster["dns-version.cluster.local. TXT"] == ["dns-version.cluster.local. 28800 in txt \"1.1.0\""])
        #expect(cluster["api.shop.svc.cluster.local. A"] == ["api.shop.svc.cluster.local. 5 in a 10.96.0.20"])
        #expect(cluster["api.shop.svc.cluster.local. SRV"] == [
            "api.shop.svc.cluster.local. 5 in srv 0 50 80 api.shop.svc.cluster.local.",
            "api.shop.svc.cluster.local. 5 in srv 0 50 9090 api.shop.svc.cluster.local.",
        ])
        #expect(cluster["_grpc._tcp.api.shop.svc.cluster.local. SRV"] == ["_grpc._tcp.api.shop.svc.cluster.local. 5 in srv 0 100 9090 api.shop.svc.cluster.local."])
        #expect(cluster["cart.shop.svc.cluster.local. AAAA"] == ["cart.shop.svc.cluster.local. 5 in aaaa fd00:10:96::30"])
        #expect(cluster["web.shop.svc.cluster.local. A"] == ["web.shop.svc.cluster.local. 5 in a 10.244.2.10", "web.shop.svc.cluster.local. 5 in a 10.244.2.11"])
        #expect(cluster["web-0.web.shop.svc.cluster.local. A"] == ["web-0.web.shop.svc.cluster.local. 5 in a 10.244.2.10"])
        #expect(cluster["_http._tcp.web.shop.svc.cluster.local. SRV"]?.count == 2)
        #expect(cluster["db.shop.svc.cluster.local. CNAME"] == ["db.shop.svc.cluster.local. 5 in cname db.example.com."])
        #expect(cluster["alias.shop.svc.cluster.local. CNAME"] == ["alias.shop.svc.cluster.local. 5 in cname api.shop.svc.cluster.local."])
        // Endpoint names of a ClusterIP service exist too (dashed IP), as in CoreDNS.
        #expect(cluster["10-244-1-5.api.shop.svc.cluster.local. A"] == ["10-244-1-5.api.shop.svc.cluster.local. 5 in a 10.244.1.5"])
        // publishNotReadyAddresses publishes the not-ready peer.
        #expect(cluster["peer-0.peers.shop.svc.cluster.local. A"] != nil)
        // Verified pod names.
        #expect(cluster["10-244-1-5.shop.pod.cluster.local. A"] == ["10-244-1-5.shop.pod.cluster.local. 5 in a 10.244.1.5"])
        // Not there: a not-ready endpoint, a headless service without ready endpoints, CNAME chasing.
        #expect(cluster["web-2.web.shop.svc.cluster.local. A"] == nil)
        #expect(cluster["10-244-1-6.api.shop.svc.cluster.local. A"] == nil)
        #expect(cluster["empty.shop.svc.cluster.local. A"] == nil)
        #expect(cluster["alias.shop.svc.cluster.local. A"] == nil)
        #expect(cluster.keys.allSatisfy { !$0.hasSuffix(" HINFO") })

        #expect(reverse4["20.0.96.10.in-addr.arpa. PTR"] == ["20.0.96.10.in-addr.arpa. 5 in ptr api.shop.svc.cluster.local."])
        #expect(reverse4["10.2.244.10.in-addr.arpa. PTR"] == ["10.2.244.10.in-addr.arpa. 5 in ptr web-0.web.shop.svc.cluster.local."])
        #expect(reverse4["12.2.244.10.in-addr.arpa. PTR"] == nil)
        let v6Owner = ZoneExport.reverseName(of: IPAddress("fd00:10:96::30")!)!.description
        #expect(reverse6["\(v6Owner) PTR"] == ["\(v6Owner) 5 in ptr cart.shop.svc.cluster.local."])
    }

    /// Every RRset written is exactly the catalog's answer at that name and type.
    @Test(arguments: [PodMode.disabled, .verified])
    func everyExportedRRsetIsTheCatalogsAnswer(podMode: PodMode) throws {
        let catalog = Self.catalog(podMode: podMode)
        for zone in try ZoneExport.zones(of: catalog) {
            for (key, rrset) in Self.parse(zone) {
                let parts = key.split(separator: " ")
                let question = DNSQuestion(name: try DNSName(parts[0]), type: RecordType(mnemonic: String(parts[1]))!)
                let answer = catalog.answer(question)
                #expect(answer.responseCode == .noError)
                let answered = Set(answer.answers.filter { $0.name == question.name && $0.type == question.type }.map { normalize($0.description) })
                #expect(Set(rrset.map(normalize)) == answered, "\(question)")
            }
        }
    }

    /// Completeness, from the other side: every record the spec table's questions get as an
    /// answer is in the files (chased CNAME targets included, under their own names).
    @Test(arguments: [PodMode.disabled, .verified])
    func everySpecAnswerIsExported(podMode: PodMode) throws {
        let catalog = Self.catalog(podMode: podMode)
        let zones = try ZoneExport.zones(of: catalog)
        var written = Set<String>()
        for zone in zones { for rrset in Self.parse(zone).values { written.formUnion(rrset.map(normalize)) } }
        var checked = 0
        for specCase in specCases where specCase.podMode == podMode && specCase.type != .any {
            let answer = catalog.answer(DNSQuestion(name: try DNSName(specCase.name), type: specCase.type))
            guard answer.responseCode == .noError else { continue }
            for record in answer.answers {
                #expect(written.contains(normalize(record.description)), "\(specCase): \(record) is not exported")
                checked += 1
            }
        }
        #expect(checked >= (podMode == .disabled ? 20 : 1))
    }

    @Test func insecurePodModeCannotBeWritten() {
        #expect(throws: ZoneExportError.self) { try ZoneExport.zones(of: Self.catalog(podMode: .insecure)) }
    }

    /// Independent parsers accept the files: ldns-read-zone always, and nsd-checkzone and kzonecheck
    /// when they are installed.
    @Test func zoneCheckersAcceptTheFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zone-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let zones = try Self.exported()
        var checkers = 0
        for zone in zones {
            let path = directory.appendingPathComponent(zone.fileName).path
            try zone.masterFile.write(toFile: path, atomically: true, encoding: .utf8)
            let origin = String(zone.origin.description)
            if let ldns = tool("ldns-read-zone") {
                let result = try runTool(ldns, ["-c", path])
                #expect(result.status == 0, "ldns-read-zone \(zone.fileName): \(result.stderr)")
                let lines = result.stdout.split(separator: "\n").filter { !$0.hasPrefix(";") && !$0.isEmpty }
                #expect(lines.count == zone.records.count, "ldns-read-zone read \(lines.count) of \(zone.records.count) records")
                checkers += 1
            }
            if let nsd = tool("nsd-checkzone") {
                let result = try runTool(nsd, [origin, path])
                #expect(result.status == 0, "nsd-checkzone \(zone.fileName): \(result.stdout) \(result.stderr)")
                checkers += 1
            }
            if let knot = tool("kzonecheck") {
                let result = try runTool(knot, ["-o", origin, path])
                #expect(result.status == 0, "kzonecheck \(zone.fileName): \(result.stdout) \(result.stderr)")
                checkers += 1
            }
        }
        #expect(checkers >= zones.count, "install ldnsutils (ldns-read-zone) to check the exported zones")
    }
}

private func normalize(_ line: String) -> String {
    line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ").lowercased()
}

private func tool(_ name: String) -> String? {
    for directory in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
        let path = directory + "/" + name
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

private func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read before waiting, so a large output cannot fill the pipe and block the tool.
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
