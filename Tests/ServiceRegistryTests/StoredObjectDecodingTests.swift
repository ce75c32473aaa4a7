import ServiceRegistry
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
