import ClusterZones
import DNSWire
import Foundation
import SpecSupport
import Testing

/// libldns, through `StaticZone.load`, reads every master file the project ships or writes.
@Suite struct StaticZoneFileTests {
    static var shippedZones: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("zones")
    }

    @Test func everyZoneFileInZonesLoadsWithoutAnError() throws {
        let loader = StaticZoneLoader(
            registryPaths: [Self.shippedZones.path], namedFiles: [], configuration: ZoneConfiguration(domain: try DNSName("cluster.local")))
        let files = loader.files()
        #expect(!files.isEmpty, "zones/ ships no *.zone file")
        let reading = try #require(loader.read(forced: true))
        #expect(reading.errors.isEmpty, "\(reading.errors)")
        #expect(reading.zones.map(\.origin) == files.map(\.origin))
        for zone in reading.zones {
            #expect(zone.transferRecords().first?.type == .soa)
            #expect(zone.transferRecords().count > 5)
        }
    }

    /// The spec cluster's exported zones, read back by libldns, answer every record's question as
    /// the catalog that wrote them does.
    @Test(arguments: [PodMode.disabled, .verified])
    func everyExportedZoneLoadsAndAnswersAsTheCatalog(_ podMode: PodMode) throws {
        let catalog = SpecFixture.catalog(podMode: podMode)
        let exported = try ZoneExport.zones(of: catalog)
        #expect(exported.count == 3)
        for file in exported {
            let zone = try StaticZone.parse(text: file.masterFile, origin: file.origin, file: file.fileName)
            #expect(zone.transferRecords().count == file.records.count, "\(file.fileName)")
            var questions = Set<String>()
            for record in file.records where questions.insert("\(record.name.lowercased()) \(record.type)").inserted {
                let question = DNSQuestion(name: record.name.lowercased(), type: record.type)
                let ours = zone.answer(question)
                let theirs = catalog.answer(question)
                #expect(ours.responseCode == theirs.responseCode, "\(question)")
                #expect(Set(ours.answers.map { $0.description.lowercased() }) == Set(theirs.answers.map { $0.description.lowercased() }), "\(question)")
            }
            #expect(questions.count > 2, "\(file.fileName)")
        }
    }

    /// The loader as the watch uses it: nothing read again while no stamp changes, a changed file
    /// read once its stamp held still for a poll, a file added to a directory that had settled is
    /// found, a broken file keeps its last good zone, a deleted one takes its zone away.
    @Test func theLoaderFollowsFilesAddedBrokenAndDeleted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("static-zones-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, www: String) throws {
            let text = "@ 60 IN SOA ns hostmaster 1 3600 600 86400 5\nns 60 IN A 192.0.2.1\nwww 60 IN A \(www)\n"
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        /// The directory as one last changed a while ago: the loader trusts its stamp from then on.
        func settle() throws {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -10)], ofItemAtPath: directory.path)
        }
        func www(_ reading: StaticZoneReading?, _ origin: String) throws -> [RecordData] {
            let zone = try #require(reading?.zones.first { $0.origin.description == origin })
            return zone.answer(DNSQuestion(name: try DNSName("www." + origin), type: .a)).answers.map(\.data)
        }
        try write("a.test.zone", www: "192.0.2.10")
        try settle()
        let loader = StaticZoneLoader(registryPaths: [directory.path], namedFiles: [], configuration: ZoneConfiguration(domain: try DNSName("cluster.local")))
        let first = loader.read(forced: true)  // as serve reads them before it answers
        #expect(first?.zones.map(\.origin.description) == ["a.test."])
        #expect(loader.read() == nil)

        try write("b.test.zone", www: "192.0.2.20")
        #expect(loader.read() == nil, "read before its stamp held still for a poll")
        let added = loader.read()
        #expect(added?.zones.map(\.origin.description) == ["a.test.", "b.test."])
        #expect(added?.changedFiles == [directory.appendingPathComponent("b.test.zone").path])
        #expect(try www(added, "b.test.") == [.a(0xc000_0214)])

        try settle()
        try "@ 60 IN SOA ns hostmaster 1 3600 600 86400 5\nwww 60 IN A 192.0.2.999\n".write(
            to: directory.appendingPathComponent("a.test.zone"), atomically: true, encoding: .utf8)
        #expect(loader.read() == nil)
        let broken = loader.read()
        #expect(broken?.errors.map(\.description) == [directory.appendingPathComponent("a.test.zone").path + ":2: Syntax error, could not parse the RR's rdata"])
        #expect(broken?.keptFiles == [directory.appendingPathComponent("a.test.zone").path])
        #expect(try www(broken, "a.test.") == [.a(0xc000_020a)])

        try FileManager.default.removeItem(at: directory.appendingPathComponent("b.test.zone"))
        // A deleted file has no stamp to settle: its zone goes at once.
        let deleted = loader.read()
        #expect(deleted?.zones.map(\.origin.description) == ["a.test."])
    }
}
