/// Decodes legacy `v1 Endpoints` (named like their Service) into one endpoint group per subset:
/// `addresses` are ready, `notReadyAddresses` are not.
enum EndpointsDecoder {
    static func decode(_ node: ManifestNode, metadata: ObjectMetadata, reader: ObjectReader) -> [EndpointGroup]? {
        var groups: [EndpointGroup] = []
        for (index, subset) in reader.sequence(node["subsets"], field: "subsets").enumerated() {
            func field() -> String { "subsets[\(index)]" }
            guard reader.mapping(subset, field: field()) != nil else { continue }
            var endpoints: [Endpoint] = []
            for (listName, ready) in [("addresses", true), ("notReadyAddresses", false)] {
                for (addressIndex, item) in reader.sequence(subset[listName], field: "\(field()).\(listName)").enumerated() {
                    func addressField() -> String { "\(field()).\(listName)[\(addressIndex)]" }
                    guard reader.mapping(item, field: addressField()) != nil else { continue }
                    guard reader.requiredString(item["ip"], field: "\(addressField()).ip", parent: item) != nil,
                          let address = reader.ip(item["ip"], field: "\(addressField()).ip") else { continue }
                    endpoints.append(Endpoint(
                        addresses: [address],
                        hostname: reader.hostname(item["hostname"], field: "\(addressField()).hostname"),
                        ready: ready
                    ))
                    // Checked, not kept: DNS answers nothing from them (`Endpoint`).
                    _ = reader.objectReference(item["targetRef"], field: "\(addressField()).targetRef", defaultNamespace: metadata.namespace)
                    _ = reader.string(item["nodeName"], field: "\(addressField()).nodeName")
                }
            }
            let ports = reader.sequence(subset["ports"], field: "\(field()).ports").enumerated().compactMap { portIndex, item in
                reader.endpointPort(item, field: "\(field()).ports[\(portIndex)]")
            }
            let families = Set(endpoints.flatMap(\.addresses).map(\.isIPv4))
            groups.append(EndpointGroup(
                origin: .endpoints,
                object: ObjectReference(kind: "Endpoints", namespace: metadata.namespace, name: metadata.name),
                addressType: families.count == 1 ? (families.first! ? .ipv4 : .ipv6) : nil,
                endpoints: endpoints,
                ports: ports,
                source: reader.source(of: subset)
            ))
        }
        return groups
    }
}
