@testable import ServiceRegistry
import Foundation
import Testing

/// A value stored in etcd is held to the same checks as a manifest, and its errors name its key.
@Suite struct StoredObjectDecodingTests {
    static let key = "etcd:/registry/services/specs/shop/web"

    @Test func aValidServiceDecodesToItsObject() throws {
        let json = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},"spec":{"clusterIP":"10.96.0.10","ports":[{"port":80}]}}"#
        guard case .object(let object, let warnings) = StoredObjectDecoding.decode(json: json, source: Self.key) else {
            Issue.record("a valid Service was not decoded")
            return
        }
        #expect(object.reference == ObjectReference(kind: "Service", namespace: "shop", name: "web"))
        #expect(object.location.file == Self.key)
        #expect(warnings.isEmpty)
    }

    @Test func notJSONIsRejectedNamingTheKey() {
        guard case .rejected(let errors) = StoredObjectDecoding.decode(json: "{not json", source: Self.key) else {
            Issue.record("broken JSON was accepted")
            return
        }
        #expect(errors.contains(RegistryError(code: .invalidJSON)))
        #expect(errors.allSatisfy { $0.description.hasPrefix(Self.key) })
    }

    @Test func aServiceFailingValidationIsRejectedWithTheField() {
        let json = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},"spec":{"clusterIP":"10.96.0.999","ports":[{"port":80}]}}"#
        guard case .rejected(let errors) = StoredObjectDecoding.decode(json: json, source: Self.key) else {
            Issue.record("an invalid ClusterIP was accepted")
            return
        }
        #expect(errors.contains(RegistryError(code: .invalidIP)))
        #expect(errors.contains { $0.field == "spec.clusterIP" })
    }

    @Test func aListIsNotOneStoredObject() {
        let json = #"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b"}}]}"#
        guard case .rejected(let errors) = StoredObjectDecoding.decode(json: json, source: Self.key) else {
            Issue.record("a List was taken as one object")
            return
        }
        #expect(errors.first?.reason.contains("2 objects") == true)
    }

    @Test func anFQDNSliceIsIgnoredNotRejected() {
        let json = #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-fqdn","namespace":"shop","labels":{"kubernetes.io/service-name":"web"}},"addressType":"FQDN","endpoints":[{"addresses":["a.example.com"]}]}"#
        guard case .ignored = StoredObjectDecoding.decode(json: json, source: "etcd:/registry/endpointslices/shop/web-fqdn") else {
            Issue.record("an FQDN slice was not ignored")
            return
        }
    }
}

/// Many values decoded together give each the outcome it gets alone.
@Suite struct StoredObjectBatchDecodingTests {
    static func service(_ name: String, ip: String) -> String {
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"shop"},"spec":{"clusterIP":"\#(ip)","ports":[{"port":80}]}}"#
    }

    @Test func eachValueOfABatchGetsTheOutcomeItGetsAlone() {
        let values: [(source: String, json: String)] = [
            ("etcd:/a", Self.service("a", ip: "10.96.0.1")),
            ("etcd:/b", Self.service("b", ip: "10.96.0.999")),
            ("etcd:/c", #"{"kind":"Service","metadata":{"name":"c","namespace":"shop"},"spec":{"clusterIP":"10.96.0.3"}}"#),
            ("etcd:/d", "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Namespace\",\n  \"metadata\": {\"name\": \"d\"}\n}"),
            ("etcd:/e", #"{"apiVersion":"v1","kind":"List","items":[]}"#),
            ("etcd:/f", Self.service("a", ip: "10.96.0.6")),
            ("etcd:/g", #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"g","namespace":"shop"}}"#),
            // A raw line break inside a string: not JSON alone, so not in a batch either.
            ("etcd:/h", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"h\n\"}}"),
        ]
        let outcomes = StoredObjectDecoding.decode(values.map { ($0.source, Array($0.json.utf8)) })
        #expect(outcomes.count == values.count)
        for (value, outcome) in zip(values, outcomes) {
            let alone = StoredObjectDecoding.decode(json: value.json, source: value.source)
            switch (outcome, alone) {
            case (.object(let batch, _), .object(let single, _)):
                #expect(batch.reference == single.reference && batch.location.file == value.source, "\(value.source)")
            case (.rejected(let batch), .rejected(let single)):
                #expect(batch.map(\.code) == single.map(\.code), "\(value.source)")
                #expect(batch.allSatisfy { $0.location?.file == value.source })
            case (.ignored, .ignored):
                break
            default:
                Issue.record("\(value.source): \(outcome) in a batch, \(alone) alone")
            }
        }
        // The missing apiVersion (c), the bad address (b) and the second "a" (f, alone a valid object) are told apart.
        guard case .rejected = outcomes[1], case .rejected = outcomes[2], case .object = outcomes[5] else {
            Issue.record("\(outcomes)")
            return
        }
    }

    /// Where an object's content says it is from (what a clash or a conflict names).
    static func sources(_ content: RegistryObject.Content) -> [ServiceRegistry.SourceLocation?] {
        switch content {
        case .service(let draft): return [draft.service.source]
        case .endpointSlice(_, let group): return [group.source]
        case .endpoints(let groups): return groups.map(\.source)
        case .pod(let pod): return [pod.source]
        case .namespace, .other: return []
        }
    }

    /// Through the fast path, and through the batch: an escaped apiVersion (`v\u0031`, still
    /// `v1`) is one the fast path leaves to the full decoder.
    @Test(arguments: [true, false])
    func eachKindOfABatchIsMadeAtItsKeyWithTheContentItHasAlone(throughTheFastPath: Bool) {
        var values: [(source: String, json: String)] = [
            ("etcd:/registry/services/specs/shop/web", Self.service("web", ip: "10.96.0.10")),
            ("etcd:/registry/endpointslices/shop/web-1", #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-1","namespace":"shop","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4","endpoints":[{"addresses":["10.1.0.5"]}],"ports":[{"port":8080}]}"#),
            ("etcd:/registry/services/endpoints/shop/web", #"{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web","namespace":"shop"},"subsets":[{"addresses":[{"ip":"10.1.0.6"}],"ports":[{"port":8080}]},{"addresses":[{"ip":"10.1.0.7"}],"ports":[{"port":9090}]}]}"#),
            ("etcd:/registry/pods/shop/web-0", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0","namespace":"shop","labels":{"app":"web"}},"spec":{"containers":[{"name":"c"}]},"status":{"podIP":"10.1.0.5"}}"#),
            ("etcd:/registry/namespaces/shop", #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}"#),
        ]
        if !throughTheFastPath {
            values = values.map { value in
                let json = value.json.replacingOccurrences(of: #""apiVersion":"v1""#, with: #""apiVersion":"v\u0031""#)
                return (value.source, json.replacingOccurrences(of: #""discovery.k8s.io/v1""#, with: #""discovery.k8s.io\/v1""#))
            }
        }
        var scanner = FlatJSONScanner()
        let fast = values.map { value in Array(value.json.utf8).withUnsafeBufferPointer { ObjectFastPath.decode($0, source: value.source, scanner: &scanner) != nil } }
        // All but the Endpoints (never read by the fast path), or none.
        #expect(fast == [throughTheFastPath, throughTheFastPath, false, throughTheFastPath, throughTheFastPath])
        let outcomes = StoredObjectDecoding.decode(values.map { ($0.source, Array($0.json.utf8)) })
        for (value, outcome) in zip(values, outcomes) {
            guard case .object(let batch, _) = outcome, case .object(let alone, _) = StoredObjectDecoding.decode(json: value.json, source: value.source) else {
                Issue.record("\(value.source): \(outcome)")
                continue
            }
            // Nothing of a line of the batch is left on the object or anything it holds.
            #expect(batch.location == ServiceRegistry.SourceLocation(file: value.source), "\(value.source)")
            #expect(Self.sources(batch.content).allSatisfy { $0 == ServiceRegistry.SourceLocation(file: value.source) }, "\(value.source)")
            #expect(batch.reference == alone.reference && batch.content.withoutLocations == alone.content.withoutLocations, "\(value.source)")
        }
        // The Endpoints' two subsets each carry the key.
        if case .object(let endpoints, _) = outcomes[2] { #expect(Self.sources(endpoints.content).count == 2) }
    }

    @Test func aBatchWithAValueThatIsNotJSONStillDecodesTheOthers() {
        let outcomes = StoredObjectDecoding.decode([("etcd:/a", Array(Self.service("a", ip: "10.96.0.1").utf8)), ("etcd:/b", Array("{not json".utf8))])
        guard case .object = outcomes[0], case .rejected(let errors) = outcomes[1] else {
            Issue.record("\(outcomes)")
            return
        }
        #expect(errors.contains(RegistryError(code: .invalidJSON)))
    }
}
