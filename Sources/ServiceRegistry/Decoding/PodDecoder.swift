/// Decodes a `v1 Pod`: what pod records, selector-derived endpoints and named target ports need.
enum PodDecoder {
    static func decode(_ node: ManifestNode, metadata: ObjectMetadata, reader: ObjectReader) -> Pod? {
        let spec = reader.mapping(node["spec"], field: "spec")
        let status = reader.mapping(node["status"], field: "status")
        var pod = Pod(name: metadata.name, namespace: metadata.namespace, labels: metadata.labels)
        pod.source = reader.source(of: node)
        pod.hostname = reader.hostname(spec?["hostname"], field: "spec.hostname")
        pod.subdomain = reader.hostname(spec?["subdomain"], field: "spec.subdomain")
        _ = reader.string(spec?["nodeName"], field: "spec.nodeName")  // checked, not kept: DNS reads no node
        pod.enableServiceLinks = reader.bool(spec?["enableServiceLinks"], field: "spec.enableServiceLinks")

        for (containerIndex, container) in reader.sequence(spec?["containers"], field: "spec.containers").enumerated() {
            func field() -> String { "spec.containers[\(containerIndex)]" }
            guard reader.mapping(container, field: field()) != nil else { continue }
            for (portIndex, item) in reader.sequence(container["ports"], field: "\(field()).ports").enumerated() {
                func portField() -> String { "\(field()).ports[\(portIndex)]" }
                guard reader.mapping(item, field: portField()) != nil else { continue }
                let nameNode = item["name"]
                let name = reader.string(nameNode, field: "\(portField()).name") ?? ""
                let portProtocol = reader.portProtocol(item["protocol"], field: "\(portField()).protocol")
                let port = reader.port(item["containerPort"], field: "\(portField()).containerPort", parent: item)
                guard !name.isEmpty else { continue }
                guard reader.checkName(name, field: "\(portField()).name", node: nameNode, rule: NameRules.isIANAServiceName, expected: NameRules.ianaExpectation),
                      let port, let portProtocol else { continue }
                pod.containerPorts.append(EndpointPort(name: name, protocol: portProtocol, port: port))
            }
        }

        // status.podIPs lists every family, primary first; status.podIP is the primary alone.
        for (index, item) in reader.sequence(status?["podIPs"], field: "status.podIPs").enumerated() {
            func field() -> String { "status.podIPs[\(index)]" }
            guard reader.mapping(item, field: field()) != nil else { continue }
            if let address = reader.ip(item["ip"], field: "\(field()).ip"), !pod.podIPs.contains(address) {
                pod.podIPs.append(address)
            }
        }
        if let text = reader.string(status?["podIP"], field: "status.podIP"), !text.isEmpty,
           let address = reader.ip(status?["podIP"], field: "status.podIP") {
            if pod.podIPs.isEmpty {
                pod.podIPs = [address]
            } else if pod.podIPs[0] != address {
                reader.fail(.invalidValue, "\(address) must equal status.podIPs[0].ip (\(pod.podIPs[0]))", field: "status.podIP", node: status?["podIP"])
            }
        }
        if let phase = reader.string(status?["phase"], field: "status.phase"), !phase.isEmpty {
            pod.phase = phase
        }

        pod.ready = false
        for (index, condition) in reader.sequence(status?["conditions"], field: "status.conditions").enumerated() {
            guard reader.mapping(condition, field: "status.conditions[\(index)]") != nil else { continue }
            if reader.string(condition["type"], field: "status.conditions[\(index)].type") == "Ready" {
                pod.ready = reader.string(condition["status"], field: "status.conditions[\(index)].status") == "True"
            }
        }
        return pod
    }
}
