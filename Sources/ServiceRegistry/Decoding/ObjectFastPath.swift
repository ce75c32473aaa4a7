/// Reads the objects a large cluster holds by the ten thousand (Services, EndpointSlices, Pods,
/// Namespaces, as kube-apiserver stores them and kubectl prints them) straight from their JSON
/// into the object the full decoder makes of them, without the tree and the field-by-field reader
/// in between: a stored value in etcd (`StoredObjectDecoding`), an item of a List file
/// (`DecodedFile.streamingJSON`). At a replica's start from etcd, composing that tree and reading
/// objects out of it was a third of the replica's CPU to its first answer.
///
/// It answers only for what it reads to the end with certainty: valid JSON, and an object the full
/// decoder accepts without a warning. Anything else (a string it needs with an escape or a byte
/// outside ASCII, a field of an unexpected type, a value the full decoder would reject or warn
/// about, legacy Endpoints, an FQDN slice) gives nil, and the full decoder
/// reads the value and says what is wrong with it. The rules below are the full decoders' rules
/// for the values it takes (`ObjectDecoder`, `ServiceDecoder`, `EndpointSliceDecoder`,
/// `PodDecoder`); `ObjectFastPathTests` holds its results to theirs.
enum ObjectFastPath {
    /// The object the value at `source` holds, located at `source`; nil when the full decoder must
    /// read it. `scanner`'s arrays are reused from value to value.
    static func decode(_ json: UnsafeBufferPointer<UInt8>, source: String, scanner: inout FlatJSONScanner) -> RegistryObject? {
        do throws(NotVouchedFor) {
            let root = try scanner.read(json)
            return try object(root, source: SourceLocation(file: source), in: scanner)
        } catch {
            return nil
        }
    }

    /// The object of the List item `json` starts with (see `FlatJSONScanner.readItem`), located at
    /// `source` (its file and the line it starts on, as the full decoder locates it), and the bytes
    /// the item takes; nil when the full decoder must read it.
    static func decodeItem(atStartOf json: UnsafeBufferPointer<UInt8>, source: SourceLocation, scanner: inout FlatJSONScanner) -> (object: RegistryObject, length: Int)? {
        do throws(NotVouchedFor) {
            let (root, length) = try scanner.readItem(atStartOf: json)
            return (try object(root, source: source, in: scanner), length)
        } catch {
            return nil
        }
    }

    /// The object of `yaml`, one document of `file` starting on its line `firstLine`, in the
    /// block style kubectl prints (`FlatJSONScanner.readYAMLBlock`), located where the full
    /// parser locates it (its first key's line); nil when the full parser must read it.
    static func decodeYAMLBlock(_ yaml: UnsafeBufferPointer<UInt8>, file: String, firstLine: Int, scanner: inout FlatJSONScanner) -> RegistryObject? {
        do throws(NotVouchedFor) {
            let (root, line) = try scanner.readYAMLBlock(yaml)
            return try object(root, source: SourceLocation(file: file, line: firstLine + line), in: scanner)
        } catch {
            return nil
        }
    }

    /// The kinds read here, each of one API version. Compared as bytes: making strings of the kind
    /// and version of every object was a sixth of the strings a load made.
    private enum Kind: String, CaseIterable {
        case service = "Service", endpointSlice = "EndpointSlice", pod = "Pod", namespace = "Namespace"

        var apiVersion: String { self == .endpointSlice ? "discovery.k8s.io/v1" : "v1" }
    }

    private static func object(_ root: Int32, source: SourceLocation, in json: borrowing FlatJSONScanner) throws(NotVouchedFor) -> RegistryObject {
        guard json.kind(root) == .object, let kindNode = json.member(root, "kind"), let versionNode = json.member(root, "apiVersion"),
              let kind = Kind.allCases.first(where: { json.equals(kindNode, $0.rawValue) }), json.equals(versionNode, kind.apiVersion) else {
            throw NotVouchedFor()
        }
        guard let metadata = try json.object(json.member(root, "metadata")),
              let name = try json.string(json.member(metadata, "name")), !name.isEmpty else { throw NotVouchedFor() }
        var namespace = try json.string(json.member(metadata, "namespace")) ?? ""
        if namespace.isEmpty { namespace = "default" }
        let labels = try json.object(json.member(metadata, "labels"))
        if let labels {
            for index in json.members(labels) {
                switch json.kind(json.member(at: index).value) {
                case .plainString, .otherString, .null: continue
                default: throw NotVouchedFor()
                }
            }
        }
        let isNamespace = kind == .namespace
        let validName = kind == .service || isNamespace ? NameRules.isRFC1123Label(name) : NameRules.isRFC1123Subdomain(name)
        guard validName, isNamespace || NameRules.isRFC1123Label(namespace) else { throw NotVouchedFor() }
        let reference = ObjectReference(kind: kind.rawValue, namespace: isNamespace ? "" : namespace, name: name)

        let content: RegistryObject.Content
        switch kind {
        case .service:
            content = .service(try service(root, name: name, namespace: namespace, source: source, in: json))
        case .endpointSlice:
            let (serviceName, group) = try endpointSlice(root, labels: labels, reference: reference, source: source, in: json)
            content = .endpointSlice(serviceName: serviceName, group: group)
        case .pod:
            content = .pod(try pod(root, labels: labels, name: name, namespace: namespace, source: source, in: json))
        case .namespace:
            content = .namespace
        }
        return RegistryObject(reference: reference, location: source, content: content)
    }

    // MARK: Service

    private static func service(_ root: Int32, name: String, namespace: String, source: SourceLocation, in json: borrowing FlatJSONScanner) throws(NotVouchedFor) -> ServiceDraft {
        guard let spec = try json.object(json.member(root, "spec")) else { throw NotVouchedFor() }
        var service = Service(name: name, namespace: namespace)
        service.source = source
        if let text = try json.string(json.member(spec, "type")) {
            guard let type = ServiceType(rawValue: text) else { throw NotVouchedFor() }
            service.type = type
        }

        // clusterIP and clusterIPs, as `ServiceDecoder.readClusterIPs` reads them.
        let single = try json.string(json.member(spec, "clusterIP"))
        var listed: [String] = []
        for item in try json.items(json.member(spec, "clusterIPs")) {
            guard let text = try json.string(item) else { throw NotVouchedFor() }
            listed.append(text)
        }
        if let single, !single.isEmpty, let first = listed.first, first != single { throw NotVouchedFor() }
        var entries = listed
        if entries.isEmpty, let single, !single.isEmpty { entries = [single] }
        if entries.contains("None") {
            if service.type != .externalName {
                guard entries.count == 1 else { throw NotVouchedFor() }
                service.isHeadless = true
            }
        } else {
            for text in entries where !text.isEmpty {
                guard let address = IPAddress(text) else { throw NotVouchedFor() }
                service.clusterIPs.append(address)
            }
            let addresses = service.clusterIPs
            guard addresses.count <= 2, addresses.count < 2 || addresses[0].isIPv4 != addresses[1].isIPv4 else { throw NotVouchedFor() }
            guard service.type != .externalName || addresses.isEmpty else { throw NotVouchedFor() }
        }

        if service.type == .externalName {
            guard let text = try json.string(json.member(spec, "externalName")), !text.isEmpty else { throw NotVouchedFor() }
            let target = text.hasSuffix(".") ? String(text.dropLast()) : text
            guard NameRules.isRFC1123Subdomain(target) else { throw NotVouchedFor() }
            service.externalName = target
        }
        guard !service.isHeadless || (service.type != .nodePort && service.type != .loadBalancer) else { throw NotVouchedFor() }

        let portItems = try json.items(json.member(spec, "ports"))
        var names: [String] = []
        for item in portItems {
            guard let item = try json.object(item) else { throw NotVouchedFor() }
            let name = try json.string(json.member(item, "name")) ?? ""
            if name.isEmpty {
                // A warning when the Service has other ports.
                guard portItems.count == 1 else { throw NotVouchedFor() }
            } else {
                guard NameRules.isRFC1123Label(name), !names.contains(name) else { throw NotVouchedFor() }
                names.append(name)
            }
            let portProtocol = try self.portProtocol(json.member(item, "protocol"), in: json)
            let port = try self.port(json.member(item, "port"), in: json)
            guard !service.ports.contains(where: { $0.port == port && $0.protocol == portProtocol }) else { throw NotVouchedFor() }
            var targetPort: TargetPort?
            if let node = json.member(item, "targetPort") {
                switch json.kind(node) {
                case .null: break
                case .number: targetPort = .number(try self.port(node, in: json))
                case .plainString:
                    guard let text = try json.string(node), NameRules.isIANAServiceName(text) else { throw NotVouchedFor() }
                    targetPort = .name(text)
                default: throw NotVouchedFor()
                }
            }
            var nodePort: Int?
            if let node = json.member(item, "nodePort"), json.kind(node) != .null { nodePort = try self.port(node, in: json) }
            service.ports.append(ServicePort(name: name, protocol: portProtocol, port: port, targetPort: targetPort, nodePort: nodePort))
        }
        guard !portItems.isEmpty || service.isHeadless || service.type == .externalName else { throw NotVouchedFor() }

        if let selector = try json.object(json.member(spec, "selector")) {
            var values: [String: String] = [:]
            for index in json.members(selector) {
                let (key, value) = json.member(at: index)
                guard let key = try json.string(key) else { throw NotVouchedFor() }
                if let text = try json.string(value) { values[key] = text }
            }
            service.selector = values
        }
        service.publishNotReadyAddresses = try json.bool(json.member(spec, "publishNotReadyAddresses")) ?? false
        for item in try json.items(json.member(spec, "externalIPs")) {
            guard let text = try json.string(item), let address = IPAddress(text) else { throw NotVouchedFor() }
            service.externalIPs.append(address)
        }
        // A status that is no object is not read.
        if let status = json.member(root, "status"), json.kind(status) == .object,
           let loadBalancer = try json.object(json.member(status, "loadBalancer")) {
            for item in try json.items(json.member(loadBalancer, "ingress")) {
                guard let item = try json.object(item) else { throw NotVouchedFor() }
                if let ip = json.member(item, "ip"), json.kind(ip) != .null {
                    guard let text = try json.string(ip), let address = IPAddress(text) else { throw NotVouchedFor() }
                    service.loadBalancerIngress.append(.ip(address))
                } else if let text = try json.string(json.member(item, "hostname")), !text.isEmpty {
                    let name = text.hasSuffix(".") ? String(text.dropLast()) : text
                    guard NameRules.isRFC1123Subdomain(name) else { throw NotVouchedFor() }
                    service.loadBalancerIngress.append(.hostname(name))
                } else {
                    throw NotVouchedFor()
                }
            }
        }

        var families: [IPFamily] = []
        for item in try json.items(json.member(spec, "ipFamilies")) {
            guard let text = try json.string(item), let family = IPFamily(rawValue: text) else { throw NotVouchedFor() }
            // One that contradicts its ClusterIP is a warning.
            if families.count < service.clusterIPs.count, IPFamily(of: service.clusterIPs[families.count]) != family { throw NotVouchedFor() }
            families.append(family)
        }
        var policy: ServiceDraft.FamilyPolicy?
        if let text = try json.string(json.member(spec, "ipFamilyPolicy")) {
            guard let value = ServiceDraft.FamilyPolicy(rawValue: text) else { throw NotVouchedFor() }
            policy = value
        }
        return ServiceDraft(service: service, listedFamilies: families, policy: policy)
    }

    // MARK: EndpointSlice

    private static func endpointSlice(_ root: Int32, labels: Int32?, reference: ObjectReference, source: SourceLocation, in json: borrowing FlatJSONScanner) throws(NotVouchedFor) -> (String, EndpointGroup) {
        guard let labels, let serviceName = try json.string(json.member(labels, "kubernetes.io/service-name")), !serviceName.isEmpty,
              let typeText = try json.string(json.member(root, "addressType")),
              let addressType = EndpointAddressType(rawValue: typeText), addressType != .fqdn else { throw NotVouchedFor() }
        var endpoints: [Endpoint] = []
        for item in try json.items(json.member(root, "endpoints")) {
            guard let item = try json.object(item) else { throw NotVouchedFor() }
            let addressItems = try json.items(json.member(item, "addresses"))
            guard !addressItems.isEmpty else { throw NotVouchedFor() }
            var addresses: [IPAddress] = []
            addresses.reserveCapacity(addressItems.count)
            for node in addressItems {
                guard let address = try json.address(node), address.isIPv4 == (addressType == .ipv4) else { throw NotVouchedFor() }
                addresses.append(address)
            }
            let conditions = try json.object(json.member(item, "conditions"))
            endpoints.append(Endpoint(
                addresses: addresses,
                hostname: try hostname(json.member(item, "hostname"), in: json),
                ready: try json.bool(conditions.flatMap { json.member($0, "ready") }) ?? true,
                serving: try json.bool(conditions.flatMap { json.member($0, "serving") }),
                terminating: try json.bool(conditions.flatMap { json.member($0, "terminating") })
            ))
            // Checked as the decoder checks them, not kept (`Endpoint`).
            try checkTargetRef(json.member(item, "targetRef"), in: json)
            try json.checkString(json.member(item, "nodeName"))
            try json.checkString(json.member(item, "zone"))
        }
        var ports: [EndpointPort] = []
        for item in try json.items(json.member(root, "ports")) {
            guard let item = try json.object(item) else { throw NotVouchedFor() }
            let name = try json.string(json.member(item, "name")) ?? ""
            guard name.isEmpty || NameRules.isRFC1123Label(name) else { throw NotVouchedFor() }
            ports.append(EndpointPort(name: name, protocol: try portProtocol(json.member(item, "protocol"), in: json), port: try port(json.member(item, "port"), in: json)))
        }
        let group = EndpointGroup(origin: .endpointSlice, object: reference, addressType: addressType, endpoints: endpoints, ports: ports, source: source)
        return (serviceName, group)
    }

    /// A `targetRef` checked as `ObjectReader.objectReference` checks it.
    private static func checkTargetRef(_ node: Int32?, in json: borrowing FlatJSONScanner) throws(NotVouchedFor) {
        guard let node = try json.object(node) else { return }
        for field: StaticString in ["kind", "namespace", "name"] { try json.checkString(json.member(node, field)) }
    }

    // MARK: Pod

    private static func pod(_ root: Int32, labels: Int32?, name: String, namespace: String, source: SourceLocation, in json: borrowing FlatJSONScanner) throws(NotVouchedFor) -> Pod {
        let spec = try json.object(json.member(root, "spec"))
        let status = try json.object(json.member(root, "status"))
        var labelValues: [String: String] = [:]
        if let labels {
            for index in json.members(labels) {
                let (key, value) = json.member(at: index)
                guard let key = try json.string(key) else { throw NotVouchedFor() }
                if let text = try json.string(value) { labelValues[key] = text }
            }
        }
        var pod = Pod(name: name, namespace: namespace, labels: labelValues)
        pod.source = source
        if let spec {
            pod.hostname = try hostname(json.member(spec, "hostname"), in: json)
            pod.subdomain = try hostname(json.member(spec, "subdomain"), in: json)
            try json.checkString(json.member(spec, "nodeName"))
            pod.enableServiceLinks = try json.bool(json.member(spec, "enableServiceLinks"))
            for container in try json.items(json.member(spec, "containers")) {
                guard let container = try json.object(container) else { throw NotVouchedFor() }
                for item in try json.items(json.member(container, "ports")) {
                    guard let item = try json.object(item) else { throw NotVouchedFor() }
                    let name = try json.string(json.member(item, "name")) ?? ""
                    let portProtocol = try self.portProtocol(json.member(item, "protocol"), in: json)
                    let port = try self.port(json.member(item, "containerPort"), in: json)
                    guard !name.isEmpty else { continue }
                    guard NameRules.isIANAServiceName(name) else { throw NotVouchedFor() }
                    pod.containerPorts.append(EndpointPort(name: name, protocol: portProtocol, port: port))
                }
            }
        }
        pod.ready = false
        if let status {
            for item in try json.items(json.member(status, "podIPs")) {
                guard let item = try json.object(item) else { throw NotVouchedFor() }
                guard let address = try json.address(json.member(item, "ip")) else { continue }
                if !pod.podIPs.contains(address) { pod.podIPs.append(address) }
            }
            if let text = try json.string(json.member(status, "podIP")), !text.isEmpty {
                guard let address = IPAddress(text) else { throw NotVouchedFor() }
                if pod.podIPs.isEmpty {
                    pod.podIPs = [address]
                } else if pod.podIPs[0] != address {
                    throw NotVouchedFor()
                }
            }
            if let phase = try json.string(json.member(status, "phase")), !phase.isEmpty { pod.phase = phase }
            for condition in try json.items(json.member(status, "conditions")) {
                guard let condition = try json.object(condition) else { throw NotVouchedFor() }
                if try json.string(json.member(condition, "type")) == "Ready" {
                    pod.ready = try json.string(json.member(condition, "status")) == "True"
                }
            }
        }
        return pod
    }

    // MARK: Fields

    /// A port number in 1-65535, required.
    private static func port(_ node: Int32?, in json: borrowing FlatJSONScanner) throws(NotVouchedFor) -> Int {
        guard let value = try json.int(node), (1...65535).contains(value) else { throw NotVouchedFor() }
        return value
    }

    /// TCP when absent, null or empty.
    private static func portProtocol(_ node: Int32?, in json: borrowing FlatJSONScanner) throws(NotVouchedFor) -> PortProtocol {
        // Compared as bytes first: no string made for the protocol of each port.
        if let node, let known = PortProtocol.allCases.first(where: { json.equals(node, $0.rawValue) }) { return known }
        guard let text = try json.string(node), !text.isEmpty else { return .tcp }
        guard let value = PortProtocol(rawValue: text) else { throw NotVouchedFor() }
        return value
    }

    /// A hostname: nil when absent or empty, else an RFC 1123 label.
    private static func hostname(_ node: Int32?, in json: borrowing FlatJSONScanner) throws(NotVouchedFor) -> String? {
        guard let text = try json.string(node), !text.isEmpty else { return nil }
        guard NameRules.isRFC1123Label(text) else { throw NotVouchedFor() }
        return text
    }
}
