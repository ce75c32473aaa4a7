/// Derives a Service's endpoints from the Pods its selector matches, as Kubernetes' endpoint
/// controllers would have written them, for registries that list Pods but no EndpointSlices.
enum SelectorEndpoints {
    /// The groups for `service`: one per address family and resolved port list.
    /// - Parameters:
    ///   - families: the families the Service serves; empty means every family a Pod has.
    ///   - pods: Pods of the Service's namespace.
    static func groups(for service: Service, families: [IPFamily], pods: [Pod]) -> [EndpointGroup] {
        guard let selector = service.selector, !selector.isEmpty else { return [] }
        struct GroupKey: Hashable {
            var family: IPFamily
            var ports: [EndpointPort]
        }
        var order: [GroupKey] = []
        var endpointsByKey: [GroupKey: [Endpoint]] = [:]

        let candidates = pods
            .filter { $0.namespace == service.namespace && matches(selector, $0.labels) && isServing($0) }
            .sorted { $0.name < $1.name }
        for pod in candidates {
            let ports = resolvedPorts(of: service, on: pod)
            // A Pod that serves none of the Service's ports is not one of its endpoints.
            if !service.ports.isEmpty && ports.isEmpty { continue }
            let hostname = pod.subdomain == service.name ? pod.hostname : nil
            let podFamilies = pod.podIPs.map(IPFamily.init(of:))
            for family in [IPFamily.ipv4, .ipv6] where families.isEmpty ? podFamilies.contains(family) : families.contains(family) {
                let addresses = pod.podIPs.filter { IPFamily(of: $0) == family }
                guard !addresses.isEmpty else { continue }
                let key = GroupKey(family: family, ports: ports)
                if endpointsByKey[key] == nil { order.append(key) }
                endpointsByKey[key, default: []].append(Endpoint(
                    addresses: addresses,
                    hostname: hostname,
                    ready: service.publishNotReadyAddresses || pod.ready,
                    serving: pod.ready,
                    terminating: false
                ))
            }
        }
        return order.map { key in
            EndpointGroup(
                origin: .selector,
                object: service.reference,
                addressType: key.family == .ipv4 ? .ipv4 : .ipv6,
                endpoints: endpointsByKey[key] ?? [],
                ports: key.ports,
                source: service.source
            )
        }
    }

    /// Every selector pair is among the Pod's labels.
    static func matches(_ selector: [String: String], _ labels: [String: String]) -> Bool {
        selector.allSatisfy { labels[$0.key] == $0.value }
    }

    /// A Pod with an IP that has not finished: the controllers leave out Succeeded and Failed Pods.
    static func isServing(_ pod: Pod) -> Bool {
        !pod.podIPs.isEmpty && pod.phase != "Succeeded" && pod.phase != "Failed"
    }

    /// The Service's ports with `targetPort` resolved on this Pod: a number as is, a name through
    /// the Pod's container ports (same protocol), absent as the Service port. Ports whose name the
    /// Pod does not have are left out, as the controllers do.
    static func resolvedPorts(of service: Service, on pod: Pod) -> [EndpointPort] {
        service.ports.compactMap { port in
            let number: Int?
            switch port.targetPort {
            case .number(let value): number = value
            case .name(let name): number = pod.containerPorts.first { $0.name == name && $0.protocol == port.protocol }?.port
            case nil: number = port.port
            }
            return number.map { EndpointPort(name: port.name, protocol: port.protocol, port: $0) }
        }
    }
}
