@testable import ServiceRegistry
import SpecSupport
import Testing

/// The fast path for stored values reads what the full decoder reads, or leaves the value to it:
/// every value it answers for must come out exactly as `StoredObjectDecoding.decode(json:source:)`
/// makes it (moved to the key, as the batch makes it), accepted without a warning.
@Suite struct ObjectFastPathTests {
    static let source = "etcd:/registry/some/key"

    /// What the fast path makes of `text`, after checking it against the full decoder; nil when
    /// it left the value to the full decoder.
    @discardableResult
    static func readChecked(_ text: String, _ comment: @autoclosure () -> String = "") -> RegistryObject? {
        var scanner = FlatJSONScanner()
        let fast = Array(text.utf8).withUnsafeBufferPointer { ObjectFastPath.decode($0, source: source, scanner: &scanner) }
        guard let fast else { return nil }
        let here = ServiceRegistry.SourceLocation(file: source)
        guard case .object(let full, let warnings) = StoredObjectDecoding.decode(json: text, source: source), warnings.isEmpty else {
            Issue.record("the fast path read a value the full decoder rejects or warns about: \(comment())\n\(text)\n\(StoredObjectDecoding.decode(json: text, source: source))")
            return fast
        }
        #expect(fast.reference == full.reference, "\(comment())\n\(text)")
        #expect(fast.location == here, "\(comment())\n\(text)")
        #expect(fast.content == full.content.locatedAt(here), "\(comment())\n\(text)\nfast: \(fast.content)\nfull: \(full.content)")
        return fast
    }

    @Test(arguments: Self.corpus.indices)
    func aValueAsKubeAPIServerStoresItIsReadByTheFastPathAsTheFullDecoderReadsIt(index: Int) {
        let text = Self.corpus[index].text()
        let readByTheFastPath = Self.readChecked(text) != nil
        #expect(readByTheFastPath, "left to the full decoder:\n\(text)")
    }

    /// Values the fast path must leave alone: its answer for them would need what it does not read.
    @Test(arguments: [
        // Legacy Endpoints, an FQDN slice, a List, another group's Service.
        #"{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web"},"subsets":[]}"#,
        #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"a","labels":{"kubernetes.io/service-name":"a"}},"addressType":"FQDN","endpoints":[]}"#,
        #"{"apiVersion":"v1","kind":"List","items":[]}"#,
        #"{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"web"}}"#,
        // A warning: an unnamed port among several, an empty ipFamilyPolicy.
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"clusterIP":"10.96.0.1","ports":[{"port":80},{"name":"b","port":81}]}}"#,
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"clusterIP":"10.96.0.1","ipFamilyPolicy":"","ports":[{"port":80}]}}"#,
        // A string it reads with an escape (the full decoder reads "ClusterIP").
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"type":"Cluster\u0049P","clusterIP":"10.96.0.1","ports":[{"port":80}]}}"#,
        // A key twice, in a part it does not otherwise read.
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","annotations":{"a":"1","a":"2"}},"spec":{"clusterIP":"10.96.0.1","ports":[{"port":80}]}}"#,
        // Not JSON after the object; a byte order mark before it.
        #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}} x"#,
        "\u{FEFF}{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\"}}",
    ])
    func aValueOutsideWhatTheFastPathVouchesForIsLeftToTheFullDecoder(text: String) {
        var scanner = FlatJSONScanner()
        let readByTheFastPath = Array(text.utf8).withUnsafeBufferPointer { ObjectFastPath.decode($0, source: Self.source, scanner: &scanner) } != nil
        #expect(!readByTheFastPath)
    }

    /// Seeded random edits of the corpus (fields removed, retyped, set to telling values, keys
    /// repeated, strings escaped, bytes cut or inserted): whatever the fast path reads must be
    /// what the full decoder reads. Both sides must be reached, or the edits prove nothing.
    @Test(arguments: 0..<6)
    func anEditedValueIsReadAsTheFullDecoderReadsItOrLeftToIt(seed: Int) {
        var random = SplitMix(seed: UInt64(seed) &+ 0x5EED)
        var (read, left, rejected) = (0, 0, 0)
        for round in 0..<700 {
            var value = Self.corpus[round % Self.corpus.count]
            var repeated: [JSONPath] = []
            var escaped: [JSONPath] = []
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let paths = value.paths()
                let path = paths[Int.random(in: 0..<paths.count, using: &random)]
                switch Int.random(in: 0..<10, using: &random) {
                case 0: value.remove(at: path)
                case 1: repeated.append(path)
                case 2: escaped.append(path)
                case 3: value.insert(Self.telling.randomElement(using: &random)!, named: "extra", into: path)
                default: value.replace(at: path, with: Self.telling.randomElement(using: &random)!)
                }
            }
            var text = value.text(repeating: repeated, escaping: escaped)
            if Int.random(in: 0..<12, using: &random) == 0 {
                var bytes = Array(text.utf8)
                let offset = Int.random(in: 0..<bytes.count, using: &random)
                if Bool.random(using: &random) {
                    bytes.removeSubrange(offset...)
                } else {
                    bytes.insert([UInt8(ascii: "{"), UInt8(ascii: "\""), UInt8(ascii: ","), UInt8(ascii: "\\"), 0x01, 0xC3].randomElement(using: &random)!, at: offset)
                }
                text = String(decoding: bytes, as: UTF8.self)
            }
            if Self.readChecked(text, "seed \(seed), round \(round)") != nil {
                read += 1
            } else {
                left += 1
                if case .rejected = StoredObjectDecoding.decode(json: text, source: Self.source) { rejected += 1 }
            }
        }
        #expect(read > 100 && left > 100 && rejected > 50, "read \(read), left \(left), of which rejected \(rejected)")
    }

    /// Items of a List as kubectl prints it (indented, one member a line) are read by the fast
    /// path, located at the line each starts on.
    @Test func anItemOfAnIndentedListIsReadWhereItStarts() {
        for value in Self.corpus {
            let text = "\n" + value.indentedText(by: "        ") + ",\n    {}\n]"
            var scanner = FlatJSONScanner()
            let read = Array(text.utf8.dropFirst()).withUnsafeBufferPointer {
                ObjectFastPath.decodeItem(atStartOf: $0, source: ServiceRegistry.SourceLocation(file: "list.json", line: 7), scanner: &scanner)
            }
            #expect(read?.object.location == ServiceRegistry.SourceLocation(file: "list.json", line: 7), "\(text)")
            #expect(read.map { text.utf8.dropFirst().dropFirst($0.length).first } == UInt8(ascii: ","))
        }
    }

    /// A List file of the corpus, edited, indented as kubectl prints it, with some items compact
    /// and written with escapes: streamed (items read by the fast path where it can), it decodes
    /// exactly as the whole text decoded in memory (the full decoder alone). (A key written twice
    /// would make the whole file invalid JSON.)
    @Test(arguments: 0..<3)
    func anEditedListStreamsAsItsWholeTextDecodes(seed: Int) throws {
        var random = SplitMix(seed: UInt64(seed) &+ 0x11575)
        var items: [String] = []
        for round in 0..<300 {
            var value = Self.corpus[round % Self.corpus.count]
            // A name of its own, or it is a duplicate of the same corpus item before it.
            value.update(at: [.member("metadata"), .member("name")]) { name in
                if case .string(let text)? = name { name = .string("\(text)-\(round)") }
            }
            var escaped: [JSONPath] = []
            if round % 3 != 0 {
                for _ in 0..<Int.random(in: 1...2, using: &random) {
                    let paths = value.paths()
                    let path = paths[Int.random(in: 0..<paths.count, using: &random)]
                    switch Int.random(in: 0..<10, using: &random) {
                    case 0: value.remove(at: path)
                    case 1, 2: escaped.append(path)
                    case 3: value.insert(Self.telling.randomElement(using: &random)!, named: "extra", into: path)
                    default: value.replace(at: path, with: Self.telling.randomElement(using: &random)!)
                    }
                }
            }
            // Escapes are written compact; every other item indented.
            items.append(escaped.isEmpty ? value.indentedText(by: "        ") : "        " + value.text(escaping: escaped))
        }
        let text = "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n" + items.joined(separator: ",\n") + "\n    ],\n    \"kind\": \"List\"\n}\n"
        let (streamed, whole, _) = try JSONStreamingTests.bothWays(text)
        JSONStreamingTests.expectSame(streamed, whole, "seed \(seed)")
        #expect(whole.objects.count > 100 && whole.errors.count > 10, "\(whole.objects.count) objects, \(whole.errors.count) errors")
    }

    /// Replacement values that mean something to some field somewhere.
    static let telling: [JSONValue] = [
        .null, "", "None", "10.96.0.10", "fd00::10", "10.0.0.300", "IPv4", "IPv6", "FQDN", "TCP", "UDP", "SCTP", "tcp",
        "ClusterIP", "NodePort", "LoadBalancer", "ExternalName", "SingleStack", "PreferDualStack", "RequireDualStack",
        "True", "False", "Ready", "web", "Web", "-web", "a.b", "http", "example.com.", "v1", "1kubernetes", "caf\u{E9}",
        0, 1, 80, 65535, 65536, -1, .number("80.0"), .number("1e2"), true, false, [], [:], ["10.96.0.10"], [.null], ["None", "10.96.0.11"],
        ["fd00::10"], ["IPv6", "IPv4"], ["ip": "10.244.0.9"], ["name": "x", "port": 8080], ["type": "Ready", "status": "True"],
    ]

    // MARK: Corpus

    static let managedFields: JSONValue = [[
        "apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kubectl-client-side-apply", "operation": "Update",
        "time": "2026-01-12T09:00:00Z",
        "fieldsV1": ["f:metadata": ["f:annotations": [".": [:], "f:kubectl.kubernetes.io/last-applied-configuration": [:]]], "f:spec": ["f:ports": [".": [:]]]],
    ]]

    static let corpus: [JSONValue] = [
        // A Service applied with kubectl: last-applied configuration (escaped JSON), managed fields.
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": [
                "annotations": ["kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"}}\n"],
                "creationTimestamp": "2026-01-12T09:00:00Z", "labels": ["app": "web", "tier": .null], "managedFields": managedFields,
                "name": "web", "namespace": "shop", "resourceVersion": "1001", "uid": "de621ccd-f778-4111-a436-f8022ca2d355",
            ],
            "spec": [
                "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack", "ports": [["name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080]],
                "selector": ["app": "web"], "sessionAffinity": "None", "type": "ClusterIP",
            ],
            "status": ["loadBalancer": [:]],
        ],
        // Several named ports, a named target port, UDP, no families given.
        [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "dns", "namespace": "kube-system"],
            "spec": [
                "clusterIP": "10.96.0.53", "ports": [
                    ["name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"],
                    ["name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53],
                    ["name": "metrics", "port": 9153, "protocol": ""],
                ],
                "selector": ["k8s-app": "kube-dns"],
            ],
        ],
        // Headless, without ports.
        ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "db", "namespace": "shop"], "spec": ["clusterIP": "None", "clusterIPs": ["None"], "selector": ["app": "db"], "publishNotReadyAddresses": true]],
        // ExternalName with a trailing dot.
        ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "search", "namespace": "shop"], "spec": ["type": "ExternalName", "externalName": "search.example.com."]],
        // Dual stack, required.
        [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "dual", "namespace": "shop"],
            "spec": [
                "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20", "fd00::20"], "ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "RequireDualStack",
                "ports": [["port": 443]],
            ],
        ],
        // NodePort with external IPs, a Service whose ClusterIP is still to be allocated.
        [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "edge", "namespace": "shop"],
            "spec": ["type": "NodePort", "clusterIP": "10.96.0.30", "externalIPs": ["192.0.2.7"], "ports": [["name": "https", "port": 443, "nodePort": 30443, "targetPort": 8443]]],
        ],
        ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "new"], "spec": ["ipFamilyPolicy": "PreferDualStack", "ports": [["port": 80]]]],
        // A load balancer with its ingress, by address and by name.
        [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "lb", "namespace": "shop"],
            "spec": ["type": "LoadBalancer", "clusterIP": "10.96.0.40", "ports": [["port": 80, "nodePort": 31738, "protocol": "TCP", "targetPort": 8080]]],
            "status": ["loadBalancer": ["ingress": [["ip": "172.18.0.29", "ipMode": "VIP"], ["hostname": "lb.example.com."]]]],
        ],
        // EndpointSlices: IPv4 with everything a controller writes, IPv6 bare.
        [
            "addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "endpoints": [
                [
                    "addresses": ["10.244.1.1"], "conditions": ["ready": true, "serving": true, "terminating": false], "hostname": "web-0",
                    "nodeName": "node-124", "targetRef": ["kind": "Pod", "name": "web-0", "namespace": "shop", "uid": "310e0ae9"], "zone": "zone-4",
                ],
                ["addresses": ["10.244.1.2"], "conditions": ["ready": false], "targetRef": ["kind": "Pod", "name": "web-1"]],
            ],
            "metadata": [
                "generateName": "web-", "generation": 1, "name": "web-xskfc", "namespace": "shop", "managedFields": managedFields,
                "labels": ["endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io", "kubernetes.io/service-name": "web"],
                "ownerReferences": [["apiVersion": "v1", "blockOwnerDeletion": true, "controller": true, "kind": "Service", "name": "web", "uid": "de621ccd"]],
            ],
            "ports": [["name": "http", "port": 8080, "protocol": "TCP"], ["name": "", "port": 9090]],
        ],
        [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv6",
            "metadata": ["name": "db-1", "namespace": "shop", "labels": ["kubernetes.io/service-name": "db"]],
            "endpoints": [["addresses": ["fd00::1:5"]]], "ports": [["port": 5432]],
        ],
        // Pods: running and ready with named ports and two families; pending.
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "web-0", "namespace": "shop", "labels": ["app": "web", "pod-template-hash": "7d9f"], "managedFields": managedFields],
            "spec": [
                "containers": [
                    ["image": "registry.example.com/web:1.0", "name": "main", "ports": [["containerPort": 8080, "name": "http", "protocol": "TCP"], ["containerPort": 9090]]],
                    ["image": "registry.example.com/sidecar:1.0", "name": "sidecar"],
                ],
                "hostname": "web-0", "subdomain": "web", "nodeName": "node-124", "enableServiceLinks": false,
            ],
            "status": [
                "conditions": [["status": "True", "type": "Initialized"], ["status": "True", "type": "Ready"]], "phase": "Running",
                "podIP": "10.244.1.1", "podIPs": [["ip": "10.244.1.1"], ["ip": "fd00::1:1"]],
            ],
        ],
        ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "job-x", "namespace": "batch"], "spec": ["containers": [["name": "c"]]], "status": ["phase": "Pending", "conditions": [["type": "Ready", "status": "False"]]]],
        // A Namespace.
        ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "shop", "labels": ["kubernetes.io/metadata.name": "shop"]], "spec": ["finalizers": ["kubernetes"]], "status": ["phase": "Active"]],
    ]
}

/// Where a value sits in a `JSONValue`: member names and item indexes from the root.
typealias JSONPath = [JSONValue.Step]

/// A JSON value for writing test input, with the member order it was written in.
enum JSONValue: Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    case null
    case bool(Bool)
    /// A number, as its text.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    enum Step: Equatable {
        case member(String)
        case item(Int)
    }

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .number(String(value)) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements.map { (key: $0.0, value: $0.1) }) }

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.text() == rhs.text() }

    /// Every path in the value, the root's included.
    func paths(from prefix: JSONPath = []) -> [JSONPath] {
        switch self {
        case .array(let items): return [prefix] + items.indices.flatMap { items[$0].paths(from: prefix + [.item($0)]) }
        case .object(let members): return [prefix] + members.flatMap { $0.value.paths(from: prefix + [.member($0.key)]) }
        default: return [prefix]
        }
    }

    /// Changes the value at `path` with `change`; nothing when the path leads nowhere.
    mutating func update(at path: ArraySlice<Step>, _ change: (inout JSONValue?) -> Void) {
        guard let step = path.first else { return }
        switch (self, step) {
        case (.object(var members), .member(let key)):
            guard let index = members.firstIndex(where: { $0.key == key }) else { return }
            if path.count == 1 {
                var value: JSONValue? = members[index].value
                change(&value)
                if let value { members[index].value = value } else { members.remove(at: index) }
            } else {
                members[index].value.update(at: path.dropFirst(), change)
            }
            self = .object(members)
        case (.array(var items), .item(let index)):
            guard items.indices.contains(index) else { return }
            if path.count == 1 {
                var value: JSONValue? = items[index]
                change(&value)
                if let value { items[index] = value } else { items.remove(at: index) }
            } else {
                items[index].update(at: path.dropFirst(), change)
            }
            self = .array(items)
        default:
            return
        }
    }

    mutating func remove(at path: JSONPath) { update(at: path[...]) { $0 = nil } }

    mutating func replace(at path: JSONPath, with value: JSONValue) {
        if path.isEmpty { self = value } else { update(at: path[...]) { $0 = value } }
    }

    /// Adds a member to the object at `path` (nothing when it is no object).
    mutating func insert(_ value: JSONValue, named key: String, into path: JSONPath) {
        func add(_ target: inout JSONValue) {
            if case .object(var members) = target, !members.contains(where: { $0.key == key }) {
                members.append((key, value))
                target = .object(members)
            }
        }
        if path.isEmpty { add(&self) } else { update(at: path[...]) { if var target = $0 { add(&target); $0 = target } } }
    }

    /// The value as compact JSON; the members at `repeating` are written twice, and the strings
    /// (or keys) at `escaping` with their first character as a `\u` escape.
    func text(repeating: [JSONPath] = [], escaping: [JSONPath] = [], at path: JSONPath = []) -> String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let text): return text
        case .string(let text): return Self.quoted(text, escapingFirst: escaping.contains(path))
        case .array(let items):
            return "[" + items.indices.map { items[$0].text(repeating: repeating, escaping: escaping, at: path + [.item($0)]) }.joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.flatMap { member -> [String] in
                let inner = path + [.member(member.key)]
                let written = Self.quoted(member.key, escapingFirst: false) + ":" + member.value.text(repeating: repeating, escaping: escaping, at: inner)
                return repeating.contains(inner) ? [written, written] : [written]
            }.joined(separator: ",") + "}"
        }
    }

    /// The value as kubectl prints JSON: a member or item a line, four spaces a level deeper than
    /// `indent`, the first line not indented.
    func indentedText(by indent: String = "") -> String {
        let inner = indent + "    "
        switch self {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + $0.indentedText(by: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let members) where !members.isEmpty:
            return "{\n" + members.map { inner + Self.quoted($0.key, escapingFirst: false) + ": " + $0.value.indentedText(by: inner) }.joined(separator: ",\n") + "\n" + indent + "}"
        default:
            return text()
        }
    }

    private static func quoted(_ text: String, escapingFirst: Bool) -> String {
        var result = "\""
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            if offset == 0 && escapingFirst && scalar.value < 0x10000 {
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                continue
            }
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
