import ClusterZones
import DNSServer
import DNSWire
import Foundation
import FuzzSupport
import ServiceRegistry

/// Differential fuzzing of the answer paths: the same bytes, as a query over UDP and over TCP, go
/// to a pipeline with only the general path, one that answers from the compiled answer table, and
/// one with a response cache (asked twice, so the second answer comes from the cache). Every one
/// must give the same bytes, or all drop the query; none may crash. The zones are the example
/// cluster's (`zones/`), in `insecure` pod mode so pod names are answered too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnswerPaths(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let query = UnsafeRawBufferPointer(start: data, count: count)
    for transport in [DNSTransport.udp, .tcp] {
        let general = Paths.shared.general.answer(query, over: transport)
        let table = Paths.shared.compiled.answer(query, over: transport)
        let first = Paths.shared.cached.answer(query, over: transport)
        let second = Paths.shared.cached.answer(query, over: transport)
        for (name, other) in [("answer table", table), ("cache, first", first), ("cache, second", second)] where other != general {
            preconditionFailure("\(name) differs from the general path over \(transport) for \(Array(query)): \(String(describing: other)) vs \(String(describing: general))")
        }
    }
    return 0
}

/// The three pipelines, built once per fuzzing process.
final class Paths: Sendable {
    static let shared = Paths()

    let general: QueryPipeline
    let compiled: QueryPipeline
    let cached: QueryPipeline

    init() {
        let zones = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("zones").path
        let loaded = ManifestLoader.load(paths: [zones])
        precondition(loaded.isValid, "the example cluster must load: \(loaded.report)")
        let configuration = ZoneConfiguration(domain: try! DNSName("cluster.local"), podMode: .insecure, nameServerAddresses: [IPAddress("127.0.0.1")!])
        let catalog = Catalog(snapshot: loaded.snapshot, configuration: configuration)
        general = QueryPipeline(catalog: catalog, cachingResponses: false)
        compiled = QueryPipeline(catalog: catalog, cachingResponses: false)
        compiled.compileAnswers()
        cached = QueryPipeline(catalog: catalog, cachingResponses: true)
    }
}

extension QueryPipeline {
    /// The response bytes, or nil when the query is dropped. The answering path is not compared.
    func answer(_ query: UnsafeRawBufferPointer, over transport: DNSTransport) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: transport.largestResponse)
        let response = output.withUnsafeMutableBytes { respond(to: query, over: transport, into: $0) }
        return response.map { Array(output[0..<$0.length]) }
    }
}

@_cdecl("FuzzAnswerPaths_main")
public func fuzzAnswerPathsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzAnswerPaths)
}
