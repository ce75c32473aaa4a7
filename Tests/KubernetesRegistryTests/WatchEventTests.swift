import Foundation
@testable import KubernetesRegistry
@testable import ServiceRegistry
import Testing

/// A watch event is taken apart where it lies, not read into Foundation's values and written back:
/// whatever it reads must be what the Foundation reading gives (the same object decoded, the same
/// reference and version), and what it cannot read is left to that reading.
@Suite struct WatchEventTests {
    static let slice = #"{"metadata":{"name":"db-1","namespace":"shop","resourceVersion":"812","labels":{"kubernetes.io/service-name":"db","note":"a \"quoted\" {brace}"}},"addressType":"IPv4","endpoints":[{"addresses":["10.244.0.5"],"conditions":{"ready":true}}],"ports":[{"name":"sql","port":5432,"protocol":"TCP"}]}"#
    static let service = #"{"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"shop","resourceVersion":"90"},"spec":{"clusterIP":"10.96.0.20","ports":[{"port":80}]}}"#

    static let read: [(String, KubernetesResource)] = [
        (#"{"type":"ADDED","object":\#(slice)}"#, .endpointSlices),
        (#"{"type":"MODIFIED","object":\#(service)}"#, .services),
        (" {\n  \"object\" : \(service) ,\n  \"type\" : \"MODIFIED\"\n}\r", .services),
        (#"{"type":"DELETED","object":\#(service)}"#, .services),
        (#"{"type":"BOOKMARK","object":{"kind":"Service","apiVersion":"v1","metadata":{"resourceVersion":"1234"}}}"#, .services),
        (#"{"type":"ADDED","object":{"metadata":{"name":"shop","resourceVersion":"7"}}}"#, .namespaces),
        (#"{"type":"ADDED","object":{}}"#, .namespaces),
    ]

    static func decoded(_ event: KubernetesWatchEvent) -> String {
        switch event {
        case .upsert(let json, let reference, let version):
            let object: String
            switch StoredObjectDecoding.decode(json: json, source: "test") {
            case .object(let decoded, let warnings): object = "\(decoded.content) \(warnings.count)"
            case .ignored: object = "ignored"
            case .rejected(let errors): object = "rejected \(errors.map(\.reason))"
            }
            return "upsert \(reference) \(version) \(object)"
        case .delete(let reference, let version): return "delete \(reference) \(version)"
        case .bookmark(let version): return "bookmark \(version)"
        }
    }

    @Test(arguments: Self.read.indices)
    func anEventTakenApartInPlaceReadsAsFoundationReadsIt(index: Int) throws {
        let (line, resource) = Self.read[index]
        let data = Data(line.utf8)
        let inPlace = try #require(KubernetesWatchEvent.takenApartInPlace(data, resource: resource), "left to Foundation: \(line)")
        let foundation = try KubernetesWatchEvent.readThroughFoundation(data, resource: resource)
        #expect(Self.decoded(inPlace) == Self.decoded(foundation), "\(line)")
    }

    /// What it does not read: an ERROR event, an escape in a name, a version that is no string,
    /// metadata that is no object, text after the event, a line cut short, an escaped or a
    /// repeated key.
    @Test(arguments: [
        #"{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old resource version"}}"#,
        #"{"type":"ADDED","object":{"metadata":{"name":"w\u0065b","namespace":"shop"}}}"#,
        #"{"type":"ADDED","object":{"metadata":{"name":"web","resourceVersion":12}}}"#,
        #"{"type":"ADDED","object":{"metadata":"web"}}"#,
        #"{"type":"ADDED","object":{"metadata":{"name":"web"}}} x"#,
        #"{"type":"ADDED","object":{"metadata":{"name":"web"}"#,
        // A key escaped, a key repeated.
        #"{"type":"ADDED","object":{"met\u0061data":{"name":"web","namespace":"shop"}}}"#,
        #"{"type":"ADDED","type":"DELETED","object":{"metadata":{"name":"web"}}}"#,
    ])
    func anEventOutsideWhatItReadsIsLeftToFoundation(line: String) {
        #expect(KubernetesWatchEvent.takenApartInPlace(Data(line.utf8), resource: .services) == nil)
    }

    @Test func anErrorEventOfATooOldVersionStillThrowsExpired() {
        let line = Data(#"{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old"}}"#.utf8)
        #expect(throws: KubernetesError.self) { try KubernetesWatchEvent(line: line, resource: .services) }
        do {
            _ = try KubernetesWatchEvent(line: line, resource: .services)
        } catch {
            #expect(error.code == .expired)
        }
    }
}
