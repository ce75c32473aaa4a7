@testable import ServiceRegistry
import Testing

/// YAML's implicit types decide whether `port: 80` is a number and `publishNotReadyAddresses: yes`
/// a boolean; quoted scalars stay strings, as the API server reads them.
@Suite struct ScalarTypingTests {
    static func service(publish: String, port: String) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          clusterIP: None
          publishNotReadyAddresses: \(publish)
          ports:
          - name: http
            port: \(port)
        """
    }

    @Test(arguments: [("true", true), ("True", true), ("yes", true), ("on", true), ("false", false), ("FALSE", false), ("no", false), ("off", false)])
    func plainBooleansInEveryYAMLSpelling(_ text: String, _ expected: Bool) {
        let result = ManifestLoader.load(text: Self.service(publish: text, port: "80"), name: "web.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.services.first?.publishNotReadyAddresses == expected)
    }

    @Test(arguments: ["'true'", "\"yes\"", "maybe"])
    func aQuotedOrUnknownBooleanIsAnError(_ text: String) {
        let result = ManifestLoader.load(text: Self.service(publish: text, port: "80"), name: "web.yaml")
        #expect(result.errors.contains { $0.field == "spec.publishNotReadyAddresses" }, "\(result.report)")
    }

    @Test(arguments: [("80", 80), ("8_080", 8080), ("0x50", 80), ("+443", 443)])
    func plainIntegers(_ text: String, _ expected: Int) {
        let result = ManifestLoader.load(text: Self.service(publish: "false", port: text), name: "web.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.services.first?.ports.first?.port == expected)
    }

    @Test(arguments: ["'80'", "\"80\"", "80.5", "eighty"])
    func aPortThatIsNotAPlainIntegerIsAnError(_ text: String) {
        let result = ManifestLoader.load(text: Self.service(publish: "false", port: text), name: "web.yaml")
        #expect(result.errors.contains { $0.field == "spec.ports[0].port" }, "\(result.report)")
    }

    /// Scalars read in place (every JSON number) are typed from their bytes, with a shortcut for
    /// plain decimals; each must type exactly as the same text does.
    @Test(arguments: ["80", "0", "-1", "007", "-0", "123456789012345678", "1234567890123456789", "-", "", "1-2", "8_080",
                      "0x50", "+443", "1.5", "-2.5e3", "1e3", "true", "no", "~", "web", "10.96.0.1"])
    func scalarsReadAsBytesTypeAsTheirText(_ text: String) {
        var text = text
        let fromBytes = text.withUTF8 { PlainScalar.type(of: $0) }
        let fromText = PlainScalar.type(of: text)
        #expect(fromBytes.kind == fromText.kind)
        #expect(fromBytes.number == fromText.number)
    }

    @Test func plainNullsAreAbsentValues() {
        let result = ManifestLoader.load(text: Self.service(publish: "~", port: "80"), name: "web.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.services.first?.publishNotReadyAddresses == false)
    }
}
