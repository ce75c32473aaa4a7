extension RegistrySummary {
    /// The counts of what a snapshot serves; errors and warnings are counted by the load result.
    init(snapshot: RegistrySnapshot, files: Int, skippedObjects: Int) {
        self.init()
        for service in snapshot.servicesInAnyOrder {
            if service.isHeadless {
                headlessServices += 1
            } else {
                switch service.type {
                case .clusterIP: clusterIPServices += 1
                case .nodePort: nodePortServices += 1
                case .loadBalancer: loadBalancerServices += 1
                case .externalName: externalNameServices += 1
                }
                if service.clusterIPAllocated { allocatedClusterIPs += 1 }
            }
        }
        for (_, entry) in snapshot.serviceEntries {
            for group in entry.endpointGroups {
                for endpoint in group.endpoints {
                    if endpoint.ready { readyEndpoints += 1 } else { notReadyEndpoints += 1 }
                }
            }
        }
        pods = snapshot.podCount
        namespaces = snapshot.namespaceCount
        self.files = files
        self.skippedObjects = skippedObjects
    }
}
