import ServiceRegistry
import Testing

/// Every problem the API server would reject is reported with file, line, object, field and what
/// was expected; objects with errors are left out, objects with only warnings are kept, and every
/// problem is collected.
@Suite struct ValidationTests {
    func errors(_ yaml: String) -> [RegistryError] {
        ManifestLoader.load(text: yaml, name: "zones/shop.yaml").errors
    }

    @Test func anOutOfRangePortNamesFileLineObjectAndField() throws {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
            spec:
              clusterIP: 10.96.0.5
              ports:
              - name: http
                port: 80
              - name: admin
                port: 70000
            """, name: "zones/shop.yaml")
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(error.code == .portOutOfRange)
        #expect(error.description == "zones/shop.yaml:12: Service shop/web: spec.ports[1].port: 70000 is out of range (expected 1-65535)")
        #expect(result.snapshot.services.isEmpty)
    }

    @Test func anInvalidClusterIPIsAnInvalidIP() throws {
        let found = errors("""
            apiVersion: v1
            kind: Service
            metadata: {name: bad, namespace: shop}
            spec:
              clusterIP: 10.96.0.300
              ports: [{port: 80}]
            """)
        #expect(found.map(\.code) == [.invalidIP])
        #expect(found.first?.description.contains("zones/shop.yaml:5: Service shop/bad: spec.clusterIP: \"10.96.0.300\" is not an IP address") == true)
    }

    @Test func allErrorsAreCollectedNotJustTheFirst() {
        let found = errors("""
            apiVersion: v1
            kind: Service
            metadata: {name: Web_Server, namespace: shop}
            spec:
              clusterIP: 10.96.0.5
              externalIPs: [300.1.1.1]
              ports:
              - {name: http, port: 0}
              - {name: HTTP, port: 81, protocol: ICMP}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {namespace: shop}
            """)
        #expect(found.map(\.code) == [.invalidDNSLabel, .invalidIP, .portOutOfRange, .invalidDNSLabel, .invalidValue, .missingField])
        #expect(found.map(\.field) == ["metadata.name", "spec.externalIPs[0]", "spec.ports[0].port", "spec.ports[1].name", "spec.ports[1].protocol", "metadata.name"])
        #expect(found[4].reason == "\"ICMP\" is not a supported protocol (expected TCP, UDP or SCTP)")
    }

    @Test func serviceNamesAndNamespacesMustBeRFC1123Labels() {
        let found = errors("""
            apiVersion: v1
            kind: Service
            metadata: {name: web-, namespace: shop}
            spec: {clusterIP: None}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: Shop.Prod}
            spec: {clusterIP: None}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: \(String(repeating: "a", count: 64))}
            spec: {clusterIP: None}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: 1shop}
            """)
        #expect(found.map(\.code) == [.invalidDNSLabel, .invalidDNSLabel, .invalidDNSLabel])
        #expect(found.map(\.field) == ["metadata.name", "metadata.namespace", "metadata.name"])
        #expect(found[0].location?.line == 3)
        #expect(found[0].reason == "\"web-\" is not a lower-case RFC 1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters")
    }

    @Test func aServiceAndANamespaceNamedWithALeadingDigitAreValid() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata: {name: 1web, namespace: 1shop}
            spec: {clusterIP: None}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: 1shop}
            """, name: "zones/shop.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.service(namespace: "1shop", name: "1web")?.isHeadless == true)
    }

    @Test func aDuplicateObjectNamesBothLocations() throws {
        let result = ManifestLoader.load(texts: [
            (name: "a.yaml", text: "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: None}\n"),
            (name: "b.yaml", text: "# again\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.96.0.9, ports: [{port: 80}]}\n"),
        ])
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(error.code == .duplicateObject)
        #expect(error.location == SourceLocation(file: "b.yaml", line: 2))
        #expect(error.description.contains("a.yaml:1"))
        #expect(result.snapshot.service(namespace: "shop", name: "web")?.isHeadless == true)
    }

    /// Within one file the decoder finds it (`FirstDefinitions` keeps digests, file numbers and
    /// lines): the error still names where the first one is.
    @Test func aDuplicateWithinOneFileNamesTheFirst() throws {
        let result = ManifestLoader.load(texts: [
            (name: "a.yaml", text: "apiVersion: v1\nkind: Pod\nmetadata: {name: web-0, namespace: shop}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: None}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: None, publishNotReadyAddresses: true}\n"),
        ])
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1, "\(result.report)")
        #expect(error.code == .duplicateObject)
        #expect(error.location == SourceLocation(file: "a.yaml", line: 10))
        #expect(error.description.contains("a.yaml:5"), "\(error)")
        #expect(result.snapshot.service(namespace: "shop", name: "web")?.publishNotReadyAddresses == false)
    }

    @Test func theSameNameInAnotherKindOrNamespaceIsNotADuplicate() {
        let found = errors("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: None}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: other}
            spec: {clusterIP: None}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: web, namespace: shop}
            """)
        #expect(found.isEmpty)
    }

    @Test func portsAreRequiredUnlessHeadlessOrExternalName() {
        let found = errors("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec: {clusterIP: 10.96.0.4}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: headless}
            spec: {clusterIP: None}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ext}
            spec: {type: ExternalName, externalName: example.com}
            """)
        #expect(found.map(\.code) == [.missingField])
        #expect(found.first?.field == "spec.ports")
    }

    @Test func anExternalNameServiceNeedsAValidExternalName() {
        let found = errors("""
            apiVersion: v1
            kind: Service
            metadata: {name: ext}
            spec: {type: ExternalName}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ext2}
            spec: {type: ExternalName, externalName: "not a host"}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ext3}
            spec: {type: ExternalName, externalName: db.example.com, clusterIP: 10.96.0.3}
            """)
        #expect(found.map(\.code) == [.missingField, .invalidDNSLabel, .invalidValue])
        #expect(found.map(\.field) == ["spec.externalName", "spec.externalName", "spec.clusterIP"])
    }

    /// An unnamed port among several is served (a warning); two ports with one name make the name
    /// ambiguous for SRV records and named target ports (an error).
    @Test func anUnnamedPortAmongSeveralIsAWarningADuplicatePortNameAnError() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              clusterIP: 10.96.0.4
              ports:
              - {port: 80}
              - {name: b, port: 81}
              - {name: b, port: 82}
            """, name: "zones/shop.yaml")
        let found = result.errors
        #expect(found.map(\.code) == [.missingField, .invalidValue])
        #expect(found.map(\.severity) == [.warning, .error])
        #expect(found.map(\.field) == ["spec.ports[0].name", "spec.ports[2].name"])
        #expect(found[0].description.hasPrefix("zones/shop.yaml:7: warning: Service default/web: spec.ports[0].name: required field is missing"))
        #expect(found[1].description == "zones/shop.yaml:9: Service default/web: spec.ports[2].name: duplicate port name \"b\"")
        #expect(result.snapshot.services.isEmpty)
    }

    @Test func wrongTypesAndUnknownEnumsAreInvalidValues() {
        let found = errors("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              type: Magic
              clusterIP: 10.96.0.4
              publishNotReadyAddresses: "yes please"
              ports:
              - {port: "80"}
              - {name: b, port: 81, targetPort: "8080"}
            """)
        #expect(found.map(\.field) == ["spec.type", "spec.publishNotReadyAddresses", "spec.ports[0].name", "spec.ports[0].port", "spec.ports[1].targetPort"])
        #expect(found.map(\.code) == [.invalidValue, .invalidValue, .missingField, .invalidValue, .invalidDNSLabel])
        #expect(found.map(\.severity) == [.error, .error, .warning, .error, .error])
        #expect(found[3].reason == "expected an integer, found a string \"80\"")
    }

    @Test func missingKindAndAPIVersionAreReported() {
        let found = errors("""
            metadata: {name: web}
            ---
            kind: Service
            metadata: {name: web}
            ---
            - just a list
            """)
        #expect(found.map(\.code) == [.missingField, .missingField, .invalidValue])
        #expect(found.map(\.field) == ["kind", "apiVersion", nil])
        #expect(found.map { $0.location?.line } == [1, 3, 6])
    }

    @Test func endpointSliceAddressesMustMatchTheAddressType() {
        let found = errors("""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-abc
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            endpoints:
            - addresses: [fd00::1]
            - addresses: []
            ports:
            - {name: http, port: 65536}
            """)
        #expect(found.map(\.code) == [.invalidIP, .missingField, .portOutOfRange])
        #expect(found.map(\.field) == ["endpoints[0].addresses[0]", "endpoints[1].addresses", "ports[0].port"])
    }

    @Test func anEndpointSliceMustNameItsService() {
        let found = errors("""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: orphan}
            addressType: IPv4
            endpoints: [{addresses: [10.244.0.1]}]
            """)
        #expect(found.map(\.code) == [.missingField])
        #expect(found.first?.field == "metadata.labels[kubernetes.io/service-name]")
    }

    @Test func aWarningSaysSoAfterItsLocation() {
        let warning = RegistryError(code: .missingField, reason: "required field is missing", location: SourceLocation(file: "zones/a.yaml", line: 12),
                                    object: ObjectReference(kind: "Service", namespace: "shop", name: "web"), field: "spec.ports[1].name", severity: .warning)
        #expect(warning.description == "zones/a.yaml:12: warning: Service shop/web: spec.ports[1].name: required field is missing")
        #expect(RegistryError(code: .missingField, severity: .warning).description == "warning: missingField")
        #expect(RegistryError(code: .missingField).severity == .error)
    }

    @Test func equalityComparesOnlyTheCodeSoTestsCanExpectAKind() {
        #expect(RegistryError(code: .invalidIP, reason: "a") == RegistryError(code: .invalidIP, reason: "b"))
        #expect(RegistryError(code: .invalidIP) != RegistryError(code: .portOutOfRange))
        #expect(errors("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {clusterIP: nope, ports: [{port: 1}]}\n")
            .contains(RegistryError(code: .invalidIP)))
    }
}
