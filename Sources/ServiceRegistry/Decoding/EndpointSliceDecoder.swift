/// Decodes a `discovery.k8s.io/v1 EndpointSlice` into an endpoint group of the Service its
/// `kubernetes.io/service-name` label names.
enum EndpointSliceDecoder {
    static let serviceNameLabel = "kubernetes.io/service-name"

    static func decode(_ node: ManifestNode, metadata: ObjectMetadata, reader: ObjectReader) -> (serviceName: String, group: EndpointGroup)? {
        let serviceName = metadata.label(serviceNameLabel)
        if serviceName == nil || serviceName?.isEmpty == true {
            reader.fail(.missingField, "required label is missing (it names the Service this slice belongs to)", field: "metadata.labels[\(serviceNameLabel)]", node: node["metadata"] ?? node)
        }

        let typeNode = node["addressType"]
        var addressType: EndpointAddressType?
        if let text = reader.requiredString(typeNode, field: "addressType", parent: node) {
            addressType = EndpointAddressType(rawValue: text)
            if addressType == nil {
                reader.fail(.invalidValue, "\"\(text)\" is not an address type (expected IPv4, IPv6 or FQDN)", field: "addressType", node: typeNode)
            }
        }

        var endpoints: [Endpoint] = []
        for (index, item) in reader.sequence(node["endpoints"], field: "endpoints").enumerated() {
            func field() -> String { "endpoints[\(index)]" }
            guard reader.mapping(item, field: field()) != nil else { continue }
            var addresses: [IPAddress] = []
            let addressItems = reader.sequence(item["addresses"], field: "\(field()).addresses")
            if addressItems.isEmpty {
                reader.fail(.missingField, "required field is missing (an endpoint needs at least one address)", field: "\(field()).addresses", node: item)
            }
            for (addressIndex, addressNode) in addressItems.enumerated() {
                func addressField() -> String { "\(field()).addresses[\(addressIndex)]" }
                guard let address = reader.ip(addressNode, field: addressField()) else { continue }
                if let addressType, (addressType == .ipv4) != address.isIPv4 {
                    reader.fail(.invalidIP, "\(address) is not an \(addressType.rawValue) address (the slice's addressType)", field: addressField(), node: addressNode)
                    continue
                }
                addresses.append(address)
            }
            let conditions = reader.mapping(item["conditions"], field: "\(field()).conditions")
            endpoints.append(Endpoint(
                addresses: addresses,
                hostname: reader.hostname(item["hostname"], field: "\(field()).hostname"),
                ready: reader.bool(conditions?["ready"], field: "\(field()).conditions.ready") ?? true,
                serving: reader.bool(conditions?["serving"], field: "\(field()).conditions.serving"),
                terminating: reader.bool(conditions?["terminating"], field: "\(field()).conditions.terminating")
            ))
            // Checked, not kept: DNS answers nothing from them (`Endpoint`).
            _ = reader.objectReference(item["targetRef"], field: "\(field()).targetRef", defaultNamespace: metadata.namespace)
            _ = reader.string(item["nodeName"], field: "\(field()).nodeName")
            _ = reader.string(item["zone"], field: "\(field()).zone")
        }

        let ports = reader.sequence(node["ports"], field: "ports").enumerated().compactMap { index, item in
            reader.endpointPort(item, field: "ports[\(index)]")
        }
        guard let serviceName else { return nil }
        let group = EndpointGroup(
            origin: .endpointSlice,
            object: ObjectReference(kind: "EndpointSlice", namespace: metadata.namespace, name: metadata.name),
            addressType: addressType,
            endpoints: endpoints,
            ports: ports,
            source: reader.source(of: node)
        )
        return (serviceName, group)
    }
}
