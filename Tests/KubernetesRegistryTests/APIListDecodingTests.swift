import KubernetesRegistry
import ServiceRegistry
import Testing

@Suite struct APIListDecodingTests {
    @Test func aTypedListPageGivesItsItemsVersionAndContinueAndLeavesOutABadItemByName() throws {
        let page = """
            {"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"4711","continue":"next-token"},"items":[
            {"metadata":{"name":"web","namespace":"shop","resourceVersion":"12"},"spec":{"clusterIP":"10.96.0.20","ports":[{"port":80}]}},
            {"metadata":{"name":"broken","namespace":"shop"},"spec":{"clusterIP":"not-an-ip","ports":[{"port":80}]}}
            ]}
            """
        let decoded = try APIListDecoding.decode(json: page, source: "kubernetes:/api/v1/services").get()
        #expect(decoded.resourceVersion == "4711")
        #expect(decoded.continueToken == "next-token")
        #expect(decoded.objects.map(\.key) == [RegistryObjectKey(kind: "Service", namespace: "shop", name: "web")])
        #expect(decoded.rejected.map(\.name) == ["broken"])
        #expect(decoded.errors.contains { !$0.isWarning && $0.description.contains("not-an-ip") })
    }

    @Test func aResponseThatIsNoListIsAnError() {
        #expect(throws: RegistryError.self) { try APIListDecoding.decode(json: #"{"kind":"Status","code":500}"#, source: "s").get() }
        #expect(throws: RegistryError.self) { try APIListDecoding.decode(json: "{not json", source: "s").get() }
    }
}
