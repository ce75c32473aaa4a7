/// Assembles decoded objects into a snapshot the way the control plane would have left them: one
/// object per name, every Service with its ClusterIPs, every Service with its chosen endpoints.
struct RegistryBuilder {
    private let options: RegistryOptions
    private var errors: [RegistryError] = []

    init(options: RegistryOptions) {
        self.options = options
    }

    /// Builds the load result; `decoder` holds the objects and the errors found so far. Its objects
    /// are taken, not copied, so they can be let go before the snapshot is built.
    static func build(decoder: inout ObjectDecoder, files: [String], options: RegistryOptions, serial: UInt32) -> RegistryLoadResult {
        var builder = RegistryBuilder(options: options)
        builder.errors = decoder.errors
        return builder.build(decoder: &decoder, files: files, serial: serial)
    }

    private mutating func build(decoder: inout ObjectDecoder, files: [String], serial: UInt32) -> RegistryLoadResult {
        var objects = decoder.takeObjects()
        errors += objects.duplicateErrors
        var drafts = objects.drafts
        let slices = objects.slices
        let legacyEndpoints = objects.legacyEndpoints
        let pods = objects.pods
        let namespaces = objects.namespaces.union(decoder.skippedNamespaces)
        objects = DecodedObjects()

        drafts.sort { ($0.service.namespace, $0.service.name) < ($1.service.namespace, $1.service.name) }
        drafts = removingClusterIPClashes(drafts)
        drafts = allocatingClusterIPs(drafts, claimed: decoder.claimedClusterIPs)

        var podsByNamespace: [String: [Pod]] = [:]
        for pod in pods { podsByNamespace[pod.namespace, default: []].append(pod) }

        var endpointGroups: [ObjectKey: [EndpointGroup]] = [:]
        var summary = RegistrySummary()
        for draft in drafts {
            let service = draft.service
            count(service, in: &summary)
            guard service.type != .externalName else { continue }
            let key = ObjectKey(namespace: service.namespace, name: service.name)
            let groups: [EndpointGroup]
            if let fromSlices = slices[key], !fromSlices.isEmpty {
                groups = fromSlices.sorted { $0.object.name < $1.object.name }
            } else if let fromEndpoints = legacyEndpoints[key] {
                groups = fromEndpoints
            } else {
                let families = service.clusterIPs.isEmpty ? draft.ipFamilies : service.clusterIPs.map(IPFamily.init(of:))
                groups = SelectorEndpoints.groups(for: service, families: families, pods: podsByNamespace[service.namespace] ?? [])
            }
            if !groups.isEmpty { endpointGroups[key] = groups }
            for endpoint in groups.flatMap(\.endpoints) {
                if endpoint.ready { summary.readyEndpoints += 1 } else { summary.notReadyEndpoints += 1 }
            }
        }

        let snapshot = RegistrySnapshot(
            serial: serial,
            services: drafts.map(\.service),
            endpointGroups: endpointGroups,
            pods: pods,
            namespaces: namespaces.sorted()
        )
        summary.pods = snapshot.pods.count
        summary.namespaces = snapshot.namespaces.count
        summary.files = files.count
        summary.skippedObjects = decoder.skipped.count
        summary.errors = errors.count
        return RegistryLoadResult(snapshot: snapshot, errors: errors, skipped: decoder.skipped, files: files, summary: summary)
    }

    /// Two Services may not share a ClusterIP; the first by namespace/name keeps it, the other is
    /// reported (naming both) and left out.
    private mutating func removingClusterIPClashes(_ drafts: [ServiceDraft]) -> [ServiceDraft] {
        var owners: [IPAddress: Service] = [:]
        var kept: [ServiceDraft] = []
        for draft in drafts {
            let service = draft.service
            let clash = service.clusterIPs.first { owners[$0] != nil }
            if let clash, let owner = owners[clash] {
                errors.append(RegistryError(
                    code: .clusterIPClash,
                    reason: "\(clash) is already the ClusterIP of \(owner.reference)"
                        + (owner.source.map { " (\($0))" } ?? "") + "; two Services cannot share a ClusterIP",
                    location: service.source,
                    object: service.reference,
                    field: "spec.clusterIP"
                ))
                continue
            }
            for ip in service.clusterIPs { owners[ip] = service }
            kept.append(draft)
        }
        return kept
    }

    /// Gives every non-headless Service without ClusterIPs its addresses, from the first service
    /// CIDR of each family it needs (drafts arrive sorted, so the outcome is order-independent).
    private mutating func allocatingClusterIPs(_ drafts: [ServiceDraft], claimed: Set<IPAddress>) -> [ServiceDraft] {
        var allocator = ClusterIPAllocator(taken: claimed)
        var result: [ServiceDraft] = []
        for var draft in drafts {
            guard draft.needsAllocation else {
                result.append(draft)
                continue
            }
            let service = draft.service
            let defaultFamily: IPFamily = options.serviceCIDR(ipv4: true) != nil || options.serviceCIDRs.isEmpty ? .ipv4 : .ipv6
            let primary = draft.ipFamilies.first ?? defaultFamily
            var wanted = [primary]
            if draft.wantsDualStack {
                if options.serviceCIDR(ipv4: primary.other == .ipv4) != nil {
                    wanted.append(primary.other)
                } else if draft.requiresDualStack {
                    fail(service, "ipFamilyPolicy RequireDualStack needs an \(primary.other.rawValue) service CIDR (--service-cidr) to allocate from", field: "spec.ipFamilyPolicy")
                    continue
                }
            }
            var addresses = service.clusterIPs
            var failed = false
            for family in wanted where !addresses.contains(where: { IPFamily(of: $0) == family }) {
                guard let network = options.serviceCIDR(ipv4: family == .ipv4) else {
                    fail(service, "the Service has no ClusterIP and there is no \(family.rawValue) service CIDR (--service-cidr) to allocate one from", field: "spec.clusterIP")
                    failed = true
                    break
                }
                guard let address = allocator.allocate(namespace: service.namespace, name: service.name, in: network) else {
                    errors.append(RegistryError(
                        code: .clusterIPClash,
                        reason: "no free address left in the service CIDR \(network) to allocate a ClusterIP",
                        location: service.source,
                        object: service.reference,
                        field: "spec.clusterIP"
                    ))
                    failed = true
                    break
                }
                addresses.append(address)
            }
            if failed { continue }
            draft.service.clusterIPs = wanted.compactMap { family in addresses.first { IPFamily(of: $0) == family } }
                + addresses.filter { address in !wanted.contains(IPFamily(of: address)) }
            draft.service.clusterIPAllocated = true
            result.append(draft)
        }
        return result
    }

    private mutating func fail(_ service: Service, _ reason: String, field: String) {
        errors.append(RegistryError(code: .invalidValue, reason: reason, location: service.source, object: service.reference, field: field))
    }

    private func count(_ service: Service, in summary: inout RegistrySummary) {
        if service.isHeadless {
            summary.headlessServices += 1
            return
        }
        switch service.type {
        case .clusterIP: summary.clusterIPServices += 1
        case .nodePort: summary.nodePortServices += 1
        case .loadBalancer: summary.loadBalancerServices += 1
        case .externalName: summary.externalNameServices += 1
        }
        if service.clusterIPAllocated { summary.allocatedClusterIPs += 1 }
    }
}
