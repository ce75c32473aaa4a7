import Foundation
import Logging
@testable import ServiceRegistry
import SpecSupport
import Testing

/// The watcher compares each changed file with what it held, document by document, and hands the
/// store only the differences. Whatever the edits (documents changed, added, removed, moved, the
/// same object defined twice in a file or in two files, files created and deleted), the registry it
/// serves must equal a registry loaded from scratch from the same files.
@Suite struct ManifestSourceModelTests {
    /// One document: a Service or a Pod, from small pools of names and addresses so that the same
    /// object often appears twice and ClusterIPs clash.
    static func document(_ random: inout SplitMix) -> String {
        let namespace = ["shop", "blog"][Int(random.next() % 2)]
        let name = "svc-\(random.next() % 12)"
        let address = "10.96.0.\(1 + random.next() % 30)"
        if random.next() % 4 == 0 {
            return "apiVersion: v1\nkind: Pod\nmetadata: {name: pod-\(random.next() % 8), namespace: \(namespace)}\nstatus: {podIP: 10.244.0.\(1 + random.next() % 20)}\n"
        }
        let padding = String(repeating: "# comment\n", count: Int(random.next() % 3))
        return padding + "apiVersion: v1\nkind: Service\nmetadata: {name: \(name), namespace: \(namespace)}\nspec: {clusterIP: \(address), ports: [{port: \(80 + random.next() % 3)}]}\n"
    }

    @Test("incremental reads equal a fresh load", arguments: Array(1...8) as [UInt64])
    func incrementalReadsEqualAFreshLoad(seed: UInt64) throws {
        var random = SplitMix(seed: seed)
        let names = ["a.yaml", "b.yaml", "c.yaml"]
        var files: [String: [String]] = [:]
        for name in names { files[name] = (0..<(3 + Int(random.next() % 12))).map { _ in Self.document(&random) } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, documents) in files {
            try documents.joined(separator: "---\n").write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let source = ManifestSource(paths: [directory.path], options: .init(), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, watchingWrites: false)
        _ = source.load()

        for step in 0..<80 {
            let name = names[Int(random.next() % UInt64(names.count))]
            var documents = files[name] ?? []
            let operation = random.next() % 7
            switch operation {
            case 0 where !documents.isEmpty:
                documents[Int(random.next() % UInt64(documents.count))] = Self.document(&random)
            case 1:
                documents.insert(Self.document(&random), at: Int(random.next() % UInt64(documents.count + 1)))
            // (Never the last document of the registry: a registry that suddenly holds nothing keeps
            // its last good version, on purpose, where a fresh load would serve nothing.)
            case 2 where documents.count > 1:
                documents.remove(at: Int(random.next() % UInt64(documents.count)))
            case 3 where documents.count > 1:
                documents.swapAt(Int(random.next() % UInt64(documents.count)), Int(random.next() % UInt64(documents.count)))
            case 4 where !documents.isEmpty:
                // The same object twice in one file.
                documents.append(documents[Int(random.next() % UInt64(documents.count))])
            case 5:
                // Rewritten whole: most documents new.
                documents = (0..<(10 + Int(random.next() % 10))).map { _ in Self.document(&random) }
            case 6 where files[name] != nil && files.contains { $0.key != name && !$0.value.isEmpty }:
                files[name] = nil
                try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
                guard try check(source, against: directory, context: "seed \(seed) step \(step): \(name) deleted") else { return }
                continue
            default:
                documents.append(Self.document(&random))
            }
            files[name] = documents
            try documents.joined(separator: "---\n").write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
            guard try check(source, against: directory, context: "seed \(seed) step \(step): \(name) operation \(operation)") else { return }
        }
    }

    /// - Returns: whether they agree (the first disagreement ends the sequence: the later ones follow from it).
    func check(_ source: ManifestSource, against directory: URL, context: String) throws -> Bool {
        // The first poll notes the new stamps, the second reads the files.
        _ = source.pollUpdate()
        _ = source.pollUpdate()
        let served = source.snapshot
        let fresh = ManifestLoader.load(paths: [directory.path]).snapshot
        func differences<T: Hashable>(_ served: [T], _ fresh: [T], _ describe: (T) -> String) -> [String] {
            Set(served).symmetricDifference(fresh).map { (Set(served).contains($0) ? "served " : "fresh ") + describe($0) }.sorted()
        }
        // Which file an object is served from; its line is left out (see `relocate` in RegistryStore).
        let file = { (location: ServiceRegistry.SourceLocation?) in location.map { URL(fileURLWithPath: $0.file).lastPathComponent } ?? "-" }
        let service = { (service: Service) -> String in
            return "\(service.namespace)/\(service.name) \(service.clusterIPs) \(service.ports.map(\.port)) from \(file(service.source))"
        }
        let pod = { (pod: Pod) -> String in
            return "\(pod.namespace)/\(pod.name) \(pod.podIPs) from \(file(pod.source))"
        }
        let services = differences(served.services.map(service), fresh.services.map(service)) { $0 }
        let pods = differences(served.pods.map(pod), fresh.pods.map(pod)) { $0 }
        #expect(services.isEmpty, "\(context): \(services)")
        #expect(pods.isEmpty, "\(context): \(pods)")
        #expect(served.namespaces == fresh.namespaces, "\(context)")
        return services.isEmpty && pods.isEmpty && served.namespaces == fresh.namespaces
    }
}
