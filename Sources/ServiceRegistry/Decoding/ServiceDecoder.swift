/// Decodes a `v1 Service` with the API server's validation and defaulting: type, ClusterIPs, IP
/// families, ports, selector, ExternalName, external IPs and load-balancer ingress.
enum ServiceDecoder {
    static func decode(_ node: ManifestNode, metadata: ObjectMetadata, reader: ObjectReader) -> ServiceDraft? {
        let spec = reader.mapping(node["spec"], field: "spec")
        // metadata.labels are checked but not kept: nothing in DNS or the service environment
        // reads a Service's labels, and on 50k Services they took 18 MB of the snapshot.
        var service = Service(name: metadata.name, namespace: metadata.namespace)
        service.source = reader.source(of: node)

        let typeNode = spec?["type"]
        if let text = reader.string(typeNode, field: "spec.type") {
            if let type = ServiceType(rawValue: text) {
                service.type = type
            } else {
                reader.fail(.invalidValue, "\"\(text)\" is not a Service type (expected ClusterIP, NodePort, LoadBalancer or ExternalName)", field: "spec.type", node: typeNode)
            }
        }

        readClusterIPs(spec, into: &service, reader: reader)
        if service.type == .externalName {
            readExternalName(spec, into: &service, reader: reader)
        }
        if service.isHeadless && (service.type == .nodePort || service.type == .loadBalancer) {
            reader.fail(.invalidValue, "clusterIP: None is only allowed for type ClusterIP (this Service is \(service.type.rawValue))", field: "spec.clusterIP", node: spec?["clusterIP"])
        }

        service.ports = readPorts(spec, type: service.type, reader: reader)
        let listsPorts = !(reader.sequence(spec?["ports"], field: "spec.ports").isEmpty)
        if !listsPorts && !service.isHeadless && service.type != .externalName {
            reader.fail(.missingField, "required field is missing (a \(service.type.rawValue) Service needs at least one port; only headless and ExternalName Services may have none)", field: "spec.ports", node: spec ?? node)
        }

        service.selector = reader.stringMap(spec?["selector"], field: "spec.selector")
        service.publishNotReadyAddresses = reader.bool(spec?["publishNotReadyAddresses"], field: "spec.publishNotReadyAddresses") ?? false
        for (index, item) in reader.sequence(spec?["externalIPs"], field: "spec.externalIPs").enumerated() {
            if let address = reader.ip(item, field: "spec.externalIPs[\(index)]") { service.externalIPs.append(address) }
        }
        service.loadBalancerIngress = readIngress(node["status"], reader: reader)

        return ServiceDraft(
            service: service,
            listedFamilies: readIPFamilies(spec, clusterIPs: service.clusterIPs, reader: reader),
            policy: readIPFamilyPolicy(spec, reader: reader)
        )
    }

    /// `spec.ipFamilies` as listed; absent is fine (the draft derives them from the ClusterIPs).
    /// A family that contradicts the ClusterIP at its index is a warning: the address decides.
    private static func readIPFamilies(_ spec: ManifestNode?, clusterIPs: [IPAddress], reader: ObjectReader) -> [IPFamily] {
        var families: [IPFamily] = []
        for (index, item) in reader.sequence(spec?["ipFamilies"], field: "spec.ipFamilies").enumerated() {
            guard let text = reader.string(item, field: "spec.ipFamilies[\(index)]") else { continue }
            guard var family = IPFamily(rawValue: text) else {
                reader.fail(.invalidValue, "\"\(text)\" is not an IP family (expected IPv4 or IPv6)", field: "spec.ipFamilies[\(index)]", node: item)
                continue
            }
            let position = families.count
            if position < clusterIPs.count, IPFamily(of: clusterIPs[position]) != family {
                let address = clusterIPs[position]
                reader.warn(.invalidValue, "\(family.rawValue) does not match the ClusterIP \(address) (the API server requires ipFamilies[i] to be the family of clusterIPs[i]); served as \(IPFamily(of: address).rawValue)", field: "spec.ipFamilies[\(index)]", node: item)
                family = IPFamily(of: address)
            }
            families.append(family)
        }
        return families
    }

    /// `spec.ipFamilyPolicy`; absent (or `""`, with a warning) leaves it to the draft's defaulting.
    private static func readIPFamilyPolicy(_ spec: ManifestNode?, reader: ObjectReader) -> ServiceDraft.FamilyPolicy? {
        let node = spec?["ipFamilyPolicy"]
        guard let text = reader.string(node, field: "spec.ipFamilyPolicy") else { return nil }
        if text.isEmpty {
            reader.warn(.invalidValue, "empty (the API server rejects it; omit the field to have it defaulted); served as if absent", field: "spec.ipFamilyPolicy", node: node)
            return nil
        }
        guard let policy = ServiceDraft.FamilyPolicy(rawValue: text) else {
            reader.fail(.invalidValue, "\"\(text)\" is not an IP family policy (expected SingleStack, PreferDualStack or RequireDualStack)", field: "spec.ipFamilyPolicy", node: node)
            return nil
        }
        return policy
    }

    /// `clusterIP` and `clusterIPs`: `None` makes the Service headless; `clusterIPs[0]` must agree with `clusterIP`.
    private static func readClusterIPs(_ spec: ManifestNode?, into service: inout Service, reader: ObjectReader) {
        let singleNode = spec?["clusterIP"]
        let single = reader.string(singleNode, field: "spec.clusterIP")
        var listed: [(text: String, node: ManifestNode, field: String)] = []
        for (index, item) in reader.sequence(spec?["clusterIPs"], field: "spec.clusterIPs").enumerated() {
            if let text = reader.string(item, field: "spec.clusterIPs[\(index)]") {
                listed.append((text, item, "spec.clusterIPs[\(index)]"))
            }
        }
        if let single, !single.isEmpty, let first = listed.first, first.text != single {
            reader.fail(.invalidValue, "\"\(first.text)\" must equal spec.clusterIP (\"\(single)\")", field: first.field, node: first.node)
        }
        var entries = listed
        if entries.isEmpty, let single, !single.isEmpty, let singleNode {
            entries = [(single, singleNode, "spec.clusterIP")]
        }
        if entries.contains(where: { $0.text == "None" }) {
            if service.type == .externalName { return }
            service.isHeadless = true
            if entries.count > 1 {
                reader.fail(.invalidValue, "a headless Service (None) cannot list other ClusterIPs", field: "spec.clusterIPs", node: spec?["clusterIPs"])
            }
            return
        }
        for entry in entries where !entry.text.isEmpty {
            guard let address = reader.ip(entry.node, field: entry.field) else { continue }
            service.clusterIPs.append(address)
        }
        if service.clusterIPs.count > 2 || (service.clusterIPs.count == 2 && service.clusterIPs[0].isIPv4 == service.clusterIPs[1].isIPv4) {
            reader.fail(.invalidValue, "expected at most one IPv4 and one IPv6 ClusterIP", field: "spec.clusterIPs", node: spec?["clusterIPs"])
        }
        if service.type == .externalName && !service.clusterIPs.isEmpty {
            reader.fail(.invalidValue, "an ExternalName Service has no ClusterIP (remove clusterIP, or set it to None)", field: "spec.clusterIP", node: entries.first?.node)
            service.clusterIPs = []
        }
    }

    private static func readExternalName(_ spec: ManifestNode?, into service: inout Service, reader: ObjectReader) {
        let node = spec?["externalName"]
        guard let text = reader.requiredString(node, field: "spec.externalName", parent: spec) else { return }
        let name = text.hasSuffix(".") ? String(text.dropLast()) : text
        if reader.checkName(name, field: "spec.externalName", node: node, rule: NameRules.isRFC1123Subdomain, expected: NameRules.subdomainExpectation) {
            service.externalName = name
        }
    }

    private static func readPorts(_ spec: ManifestNode?, type: ServiceType, reader: ObjectReader) -> [ServicePort] {
        let items = reader.sequence(spec?["ports"], field: "spec.ports")
        var ports: [ServicePort] = []
        // Arrays, not sets: a Service has a few ports, and every Service is read at start.
        var names: [String] = []
        var numbers: [(port: Int, protocol: PortProtocol)] = []
        for (index, item) in items.enumerated() {
            func field() -> String { "spec.ports[\(index)]" }
            guard reader.mapping(item, field: field()) != nil else { continue }
            let nameNode = item["name"]
            let name = reader.string(nameNode, field: "\(field()).name") ?? ""
            if name.isEmpty {
                // The API server rejects it, but the port is usable: A records and environment
                // variables work; it only has no SRV record (and no _SERVICE_PORT_<NAME> variable).
                if items.count > 1 {
                    reader.warn(.missingField, "required field is missing (the API server requires a name on every port of a Service with more than one); served without an SRV record for this port", field: "\(field()).name", node: item)
                }
            } else if reader.checkName(name, field: "\(field()).name", node: nameNode, rule: NameRules.isRFC1123Label, expected: NameRules.rfc1123Expectation) {
                if names.contains(name) {
                    reader.fail(.invalidValue, "duplicate port name \"\(name)\"", field: "\(field()).name", node: nameNode)
                } else {
                    names.append(name)
                }
            }
            let portProtocol = reader.portProtocol(item["protocol"], field: "\(field()).protocol")
            let port = reader.port(item["port"], field: "\(field()).port", parent: item)
            if let port, let portProtocol {
                if numbers.contains(where: { $0.port == port && $0.protocol == portProtocol }) {
                    reader.fail(.invalidValue, "duplicate port \(port)/\(portProtocol.rawValue)", field: "\(field()).port", node: item["port"])
                } else {
                    numbers.append((port, portProtocol))
                }
            }
            let targetPort = readTargetPort(item["targetPort"], field: "\(field()).targetPort", reader: reader)
            var nodePort: Int?
            if let node = item["nodePort"], !node.isNull {
                nodePort = reader.port(node, field: "\(field()).nodePort", parent: item)
            }
            if let port, let portProtocol {
                ports.append(ServicePort(name: name, protocol: portProtocol, port: port, targetPort: targetPort, nodePort: nodePort))
            }
        }
        return ports
    }

    /// `targetPort` is int-or-string: a number in 1-65535 or the name of a container port.
    private static func readTargetPort(_ node: ManifestNode?, field: @autoclosure () -> String, reader: ObjectReader) -> TargetPort? {
        guard let node, !node.isNull else { return nil }
        switch node.kind {
        case .int:
            return reader.port(node, field: field(), parent: nil).map(TargetPort.number)
        case .string:
            let name = node.string ?? ""
            guard reader.checkName(name, field: field(), node: node, rule: NameRules.isIANAServiceName, expected: NameRules.ianaExpectation) else { return nil }
            return .name(name)
        default:
            reader.fail(.invalidValue, "expected a port number or a container port name, found \(node.typeDescription)", field: field(), node: node)
            return nil
        }
    }

    private static func readIngress(_ status: ManifestNode?, reader: ObjectReader) -> [LoadBalancerIngress] {
        let loadBalancer = reader.mapping(status?["loadBalancer"], field: "status.loadBalancer")
        var ingress: [LoadBalancerIngress] = []
        for (index, item) in reader.sequence(loadBalancer?["ingress"], field: "status.loadBalancer.ingress").enumerated() {
            func field() -> String { "status.loadBalancer.ingress[\(index)]" }
            guard reader.mapping(item, field: field()) != nil else { continue }
            if item["ip"] != nil, !(item["ip"]?.isNull ?? true) {
                if let address = reader.ip(item["ip"], field: "\(field()).ip") { ingress.append(.ip(address)) }
            } else if let hostname = reader.string(item["hostname"], field: "\(field()).hostname"), !hostname.isEmpty {
                let name = hostname.hasSuffix(".") ? String(hostname.dropLast()) : hostname
                if reader.checkName(name, field: "\(field()).hostname", node: item["hostname"], rule: NameRules.isRFC1123Subdomain, expected: NameRules.subdomainExpectation) {
                    ingress.append(.hostname(name))
                }
            } else {
                reader.fail(.missingField, "required field is missing (an ingress entry needs ip or hostname)", field: "\(field()).ip", node: item)
            }
        }
        return ingress
    }
}
