@testable import ServiceRegistry
import Testing

/// `.json` manifests are read by `JSONComposer`: strict RFC 8259, errors with their line and
/// column, and the same tree, typed the same way, as the YAML reader gives for the same object.
@Suite struct JSONParsingTests {
    // MARK: Malformed JSON

    /// (name, text, line of the error, words the reason holds).
    static let malformed: [(String, String, Int, String)] = [
        ("missing value", "{\"kind\": }", 1, "column 10: unexpected '}', expected a value"),
        ("trailing comma in an object", "{\n  \"kind\": \"Service\",\n}", 3, "column 1: unexpected '}', expected a string key"),
        ("trailing comma in an array", "{\"items\": [\n  1,\n  ]}", 3, "column 3: unexpected ']', expected a value"),
        ("missing comma", "{\"a\": 1\n \"b\": 2}", 2, "expected ',' or '}' in an object"),
        ("unquoted key", "{kind: \"Service\"}", 1, "column 2: unexpected 'k', expected a string key"),
        ("single quotes", "{\"kind\": 'Service'}", 1, "unexpected '''"),
        ("unterminated string", "{\"kind\": \"Serv", 1, "missing closing '\"'"),
        ("unclosed object", "{\"kind\": \"Service\"\n", 2, "unexpected end of the file"),
        ("raw tab in a string", "{\"kind\": \"a\tb\"}", 1, "column 12: a control character (U+0009) in a string must be escaped"),
        ("unknown escape", "{\"kind\": \"a\\xb\"}", 1, "column 13: unknown escape '\\x'"),
        ("short \\u escape", "{\"kind\": \"\\u12\"}", 1, "column 11: \\u needs four hex digits"),
        ("lone high surrogate", "{\"kind\": \"\\uD83D\"}", 1, "half a surrogate pair"),
        ("lone low surrogate", "{\"kind\": \"\\uDE00\"}", 1, "column 11: \\uDE00 is the low half"),
        ("leading zero", "{\"port\": 080}", 1, "leading zeros"),
        ("plus sign", "{\"port\": +80}", 1, "unexpected '+'"),
        ("bare fraction", "{\"port\": .5}", 1, "unexpected '.'"),
        ("trailing dot", "{\"port\": 1.}", 1, "a digit after '.'"),
        ("empty exponent", "{\"port\": 1e}", 1, "a digit in its exponent"),
        ("NaN", "{\"port\": NaN}", 1, "unexpected 'N'"),
        ("misspelt literal", "{\"ready\": ture}", 1, "did you mean true?"),
        ("comment", "{\n  // a comment\n  \"kind\": \"Service\"\n}", 2, "column 3: unexpected '/'"),
        ("two values", "{}\n{}", 2, "after the JSON value"),
        ("empty file", "  \n", 2, "holds no JSON value"),
        ("duplicate key", "{\n  \"kind\": \"Service\",\n  \"kind\": \"Pod\"\n}", 3, "column 3: duplicate key \"kind\""),
        ("non-ASCII before the error", "{\"name\": \"é€😀\", x}", 1, "column 17: unexpected 'x'"),
        ("CRLF line ends", "{\r\n\"a\": 1,\r\n\"b\" 2}", 3, "column 5: unexpected '2', expected ':'"),
    ]

    @Test(arguments: malformed)
    func malformedJSONIsAnErrorAtItsLineAndColumn(_ name: String, _ text: String, _ line: Int, _ words: String) throws {
        let result = ManifestLoader.load(text: text, name: "bad.json")
        let error = try #require(result.errors.first, "\(name)")
        #expect(result.errors.count == 1, "\(name)")
        #expect(error.code == .invalidJSON, "\(name)")
        #expect(error.location == SourceLocation(file: "bad.json", line: line), "\(name): \(error)")
        #expect(error.reason.hasPrefix("not valid JSON at column "), "\(name): \(error)")
        #expect(error.reason.contains(words), "\(name): \(error)")
    }

    @Test func nestingDeeperThanTheLimitIsAnErrorNotACrash() throws {
        let depth = JSONComposer.maximumDepth + 1
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let error = try #require(ManifestLoader.load(text: text, name: "deep.json").errors.first)
        #expect(error.code == .invalidJSON)
        #expect(error.reason.contains("nest more than \(JSONComposer.maximumDepth) deep"))
        let limit = JSONComposer.maximumDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        guard case .success = JSONComposer.document(in: deepest) else {
            Issue.record("\(limit) levels should be read")
            return
        }
    }

    /// `kubectl get -o json | jq -c` puts a whole List on one line; nothing may rescan the line per key.
    @Test(.timeLimit(.minutes(1)))
    func aWholeListOnOneLineIsReadInOnePass() throws {
        let count = 200_000
        let text = "{\"kind\": \"List\", \"items\": [" + Array(repeating: #"{"name":"a","port":80}"#, count: count).joined(separator: ",") + "]}"
        let node = try Self.parse(text)
        #expect(node["items"]?.items.count == count)
        #expect(node["items"]?.items.last?["port"]?.int == 80)
    }

    // MARK: Strings

    /// (JSON string literal, the text it stands for).
    static let strings: [(String, String)] = [
        (#""plain""#, "plain"),
        (#""""#, ""),
        (#""quote \" backslash \\ slash \/""#, #"quote " backslash \ slash /"#),
        (#""\b\f\n\r\t""#, "\u{08}\u{0C}\n\r\t"),
        (#""caf\u00e9 \u00E9""#, "café é"),
        (#""\u20ac \u0041""#, "€ A"),
        (#""\ud83d\ude00 \uD83D\uDE00""#, "😀 😀"),
        (#""nul \u0000 end""#, "nul \u{0} end"),
        (#""raw é€😀 as UTF-8""#, "raw é€😀 as UTF-8"),
        (#""\u00e9\n\u00e9""#, "é\né"),
    ]

    @Test(arguments: strings)
    func escapesAndUnicodeDecodeToTheirText(_ literal: String, _ expected: String) throws {
        let node = try Self.parse("{\"key\": \(literal)}")
        #expect(node["key"]?.kind == .string)
        #expect(node["key"]?.string == expected)
    }

    @Test func escapedKeysAreLookedUpByTheirText() throws {
        let node = try Self.parse(#"{"k\u0069nd": "Service", "a\"b": 1}"#)
        #expect(node["kind"]?.string == "Service")
        #expect(node["a\"b"]?.int == 1)
        #expect(node.pairs.map(\.key) == ["kind", "a\"b"])
    }

    @Test func escapedStringsReachTheDecodedObjects() {
        let result = ManifestLoader.load(text: #"""
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "w\u0065b", "namespace": "sh\u006fp"},
             "spec": {"clusterIP": "10.96.0.7", "ports": [{"port": 80}], "selector": {"app": "w\u0065b"}}}
            """#, name: "web.json")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.services.map(\.name) == ["web"])
        #expect(result.snapshot.services.first?.namespace == "shop")
        #expect(result.snapshot.services.first?.selector == ["app": "web"])
    }

    @Test func aByteOrderMarkAndSurroundingWhitespaceAreAllowed() throws {
        let node = try Self.parse("\u{FEFF} \t\r\n{\"kind\": \"Namespace\"}\n\n")
        #expect(node["kind"]?.string == "Namespace")
        #expect(node.line == 2)
    }

    @Test func everyNodeKeepsItsLine() throws {
        let node = try Self.parse("""
            {
                "kind": "List",
                "items": [
                    {"name": "a"},
                    {
                        "name": "b"
                    }
                ]
            }
            """)
        #expect(node.line == 1)
        #expect(node["kind"]?.line == 2)
        #expect(node["items"]?.line == 3)
        #expect(node["items"]?.items.map(\.line) == [4, 5])
        #expect(node["items"]?.items.last?["name"]?.line == 6)
    }

    // MARK: Typing as YAML types it

    /// Scalars written the same in both formats; each must type as YAML types it.
    static let scalars: [(String, ManifestNode.Kind)] = [
        ("80", .int), ("-0", .int), ("0", .int), ("-12", .int),
        ("9223372036854775807", .int),
        // Too big for 64 bits, or an exponent without a dot: YAML 1.1 reads these as strings.
        ("99999999999999999999", .string), ("1e3", .string), ("1E+3", .string),
        ("80.0", .double), ("0.5", .double), ("-1.5e3", .double),
        ("true", .bool), ("false", .bool), ("null", .null),
        ("\"80\"", .string), ("\"true\"", .string), ("\"null\"", .string), ("\"\"", .string),
    ]

    @Test(arguments: scalars)
    func scalarsTypeAsTheYAMLReaderTypesThem(_ literal: String, _ kind: ManifestNode.Kind) throws {
        let json = try Self.parse("{\"value\": \(literal)}")
        var text = "value: \(literal)\n"
        let yaml = try #require(text.withUTF8(YAMLComposer.documents(in:)).documents.first)
        #expect(json["value"]?.kind == kind)
        #expect(yaml["value"]?.kind == kind)
        #expect(json["value"]?.scalarText == yaml["value"]?.scalarText)
        #expect(json["value"]?.int == yaml["value"]?.int)
        #expect(json["value"]?.bool == yaml["value"]?.bool)
    }

    /// Literals for `spec.ports[0].port` and `spec.publishNotReadyAddresses`, written alike in both formats.
    static let fieldValues: [(port: String, publish: String)] = [
        ("80", "true"), ("80", "false"), ("80", "null"),
        ("\"80\"", "false"), ("80.0", "false"), ("1e2", "false"), ("99999999999999999999", "false"),
        ("70000", "false"), ("-1", "false"), ("80", "\"true\""), ("80", "1"),
    ]

    @Test(arguments: fieldValues)
    func aFieldGetsTheSameValueOrErrorFromJSONAsFromYAML(_ port: String, _ publish: String) {
        let yaml = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              clusterIP: None
              publishNotReadyAddresses: \(publish)
              ports:
              - port: \(port)
            """, name: "web.yaml")
        let json = ManifestLoader.load(text: """
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {
                    "clusterIP": "None",
                    "publishNotReadyAddresses": \(publish),
                    "ports": [{"port": \(port)}]
                }
            }
            """, name: "web.json")
        #expect(json.errors.map(\.code) == yaml.errors.map(\.code))
        #expect(json.errors.map(\.field) == yaml.errors.map(\.field))
        #expect(json.errors.map(\.reason) == yaml.errors.map(\.reason))
        #expect(json.snapshot.services.map(Self.withoutSource) == yaml.snapshot.services.map(Self.withoutSource))
    }

    // MARK: The same objects in both formats

    @Test func theSameObjectsAsYAMLAndAsAJSONListDecodeAlike() throws {
        let yaml = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
              labels: {app.kubernetes.io/name: web}
            spec:
              clusterIP: 10.96.0.7
              clusterIPs: [10.96.0.7, fd00:10:96::7]
              ipFamilies: [IPv4, IPv6]
              type: LoadBalancer
              ports:
              - {name: http, port: 80, targetPort: 8080, nodePort: 30080, protocol: TCP}
              - {name: dns, port: 53, targetPort: dns, protocol: UDP}
              selector: {app: web}
              publishNotReadyAddresses: false
            status:
              loadBalancer:
                ingress: [{ip: 172.18.0.5, ipMode: VIP}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-x7k2p
              namespace: shop
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            endpoints:
            - addresses: [10.244.1.10]
              conditions: {ready: true, serving: true, terminating: false}
              hostname: web-0
              nodeName: node-a
              targetRef: {kind: Pod, name: web-0, namespace: shop}
              zone: zone-a
            - addresses: [10.244.1.11]
              conditions: {ready: false}
            ports:
            - {name: http, port: 8080, protocol: TCP}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-0, namespace: shop, labels: {app: web}}
            spec:
              hostname: web-0
              subdomain: web
              nodeName: node-a
              containers:
              - name: main
                image: web:1
                ports: [{containerPort: 8080, name: http, protocol: TCP}, {containerPort: 5353, name: dns, protocol: UDP}]
            status:
              phase: Running
              conditions: [{type: Ready, status: "True"}]
              podIP: 10.244.1.10
              podIPs: [{ip: 10.244.1.10}]
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            """, name: "shop.yaml")
        let json = ManifestLoader.load(text: """
            {
                "apiVersion": "v1",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "metadata": {
                            "labels": {"app.kubernetes.io/name": "web"},
                            "name": "web",
                            "namespace": "shop"
                        },
                        "spec": {
                            "clusterIP": "10.96.0.7",
                            "clusterIPs": ["10.96.0.7", "fd00:10:96::7"],
                            "ipFamilies": ["IPv4", "IPv6"],
                            "ports": [
                                {"name": "http", "nodePort": 30080, "port": 80, "protocol": "TCP", "targetPort": 8080},
                                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"}
                            ],
                            "publishNotReadyAddresses": false,
                            "selector": {"app": "web"},
                            "type": "LoadBalancer"
                        },
                        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.5", "ipMode": "VIP"}]}}
                    },
                    {
                        "addressType": "IPv4",
                        "apiVersion": "discovery.k8s.io/v1",
                        "endpoints": [
                            {
                                "addresses": ["10.244.1.10"],
                                "conditions": {"ready": true, "serving": true, "terminating": false},
                                "hostname": "web-0",
                                "nodeName": "node-a",
                                "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "shop"},
                                "zone": "zone-a"
                            },
                            {"addresses": ["10.244.1.11"], "conditions": {"ready": false}}
                        ],
                        "kind": "EndpointSlice",
                        "metadata": {"labels": {"kubernetes.io/service-name": "web"}, "name": "web-x7k2p", "namespace": "shop"},
                        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
                    },
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"labels": {"app": "web"}, "name": "web-0", "namespace": "shop"},
                        "spec": {
                            "containers": [
                                {
                                    "image": "web:1",
                                    "name": "main",
                                    "ports": [
                                        {"containerPort": 8080, "name": "http", "protocol": "TCP"},
                                        {"containerPort": 5353, "name": "dns", "protocol": "UDP"}
                                    ]
                                }
                            ],
                            "hostname": "web-0",
                            "nodeName": "node-a",
                            "subdomain": "web"
                        },
                        "status": {
                            "conditions": [{"status": "True", "type": "Ready"}],
                            "phase": "Running",
                            "podIP": "10.244.1.10",
                            "podIPs": [{"ip": "10.244.1.10"}]
                        }
                    },
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
                ],
                "kind": "List",
                "metadata": {"resourceVersion": ""}
            }
            """, name: "shop.json")
        #expect(yaml.errors.isEmpty, "\(yaml.report)")
        #expect(json.errors.isEmpty, "\(json.report)")
        #expect(json.summary == yaml.summary)
        let service = try #require(yaml.snapshot.services.first)
        #expect(service.ports.count == 2)
        #expect(json.snapshot.services.map(Self.withoutSource) == yaml.snapshot.services.map(Self.withoutSource))
        #expect(json.snapshot.pods.map(Self.withoutSource) == yaml.snapshot.pods.map(Self.withoutSource))
        let yamlGroups = yaml.snapshot.endpointGroups(namespace: "shop", service: "web")
        let jsonGroups = json.snapshot.endpointGroups(namespace: "shop", service: "web")
        #expect(yamlGroups.count == 1)
        #expect(jsonGroups.map(\.endpoints) == yamlGroups.map(\.endpoints))
        #expect(jsonGroups.map(\.ports) == yamlGroups.map(\.ports))
        #expect(json.snapshot.namespaces == yaml.snapshot.namespaces)
    }

    // MARK: Helpers

    static func parse(_ text: String) throws -> ManifestNode {
        try JSONComposer.document(in: text).get()
    }

    static func withoutSource(_ service: Service) -> Service {
        var service = service
        service.source = nil
        return service
    }

    static func withoutSource(_ pod: Pod) -> Pod {
        var pod = pod
        pod.source = nil
        return pod
    }
}
