@testable import ClusterZones
import DNSWire
@testable import ServiceRegistry
import Testing

/// A whole compile's entries live in one block its shards share. Patches move shards out of it;
/// once most of it is dead the rest follow a few shards a patch, and the block is let go with the
/// last, never to be held again until the next whole compile.
@Suite struct AnswerTableBlockTests {
    @Test func theCompilesBlockIsLetGoAFewShardsAPatchOnceMostOfItIsDead() throws {
        func service(_ index: Int, address: Int) -> RegistryObject {
            let text = "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index), namespace: shop}\nspec: {clusterIP: 10.96.\(address / 250).\(address % 250 + 1), ports: [{port: 80}]}\n"
            return DecodedFile(ManifestFile(path: "s.yaml", contents: .success(text))).objects[0]
        }
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), nameServerAddresses: [IPAddress("127.0.0.1")!])
        var store = RegistryStore()
        _ = store.apply([.replaceAll((0..<400).map { service($0, address: $0) })], serial: 1)
        var catalog = Catalog(snapshot: store.snapshot, configuration: configuration)
        var table = AnswerTable(catalog: catalog)
        #expect(table.holdsCompileBlock)
        var letGoAt: Int?
        for index in 0..<400 {
            let applied = store.apply([.upsert(service(index, address: 1000 + index))], serial: UInt32(index + 2))
            let (next, names) = catalog.applying(try #require(applied))
            let before = table
            table = before.patched(catalog: next, names: names)
            catalog = next
            // Each name lies in one shard; beyond those, at most 4 shards (16 / 8, at least 4) move a patch.
            #expect(table.shardsCopied <= names.count + 4, "step \(index)")
            if before.holdsCompileBlock && !table.holdsCompileBlock { letGoAt = index }
            if letGoAt != nil { #expect(!table.holdsCompileBlock, "step \(index): the block is not held again") }
        }
        #expect(letGoAt != nil, "the block was let go")
        #expect(table.nameCount == AnswerTable(catalog: catalog).nameCount)
    }
}
