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
}
