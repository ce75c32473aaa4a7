import ServiceRegistry

/// The kubelet's `getServiceEnvVarMap` choice of Services for a pod, made deterministic:
/// the kubelet keys a map by Service name and iterates it in random order; we sort by name.
public enum ServiceSelection {
    /// The namespace whose `kubernetes` Service is the control plane's ("master service").
    public static let masterNamespace = "default"
    public static let masterServiceName = "kubernetes"

    /// The Services whose variables a pod in `namespace` gets, sorted by Service name.
    ///
    /// - `default/kubernetes` always, even with service links off, because in-cluster clients read
    ///   `KUBERNETES_SERVICE_HOST`;
    /// - with service links on, every Service of the pod's namespace; its own `kubernetes`, if any,
    ///   replaces `default/kubernetes` (the kubelet's map is keyed by name, same namespace overwrites);
    /// - only Services with a ClusterIP: headless, ExternalName and unallocated ones are skipped.
    public static func services(
        in snapshot: RegistrySnapshot,
        podNamespace namespace: String,
        enableServiceLinks: Bool
    ) -> [Service] {
        var servicesByName: [String: Service] = [:]
        if let master = snapshot.service(namespace: masterNamespace, name: masterServiceName),
           master.primaryClusterIP != nil {
            servicesByName[master.name] = master
        }
        if enableServiceLinks {
            for service in snapshot.services(inNamespace: namespace) where service.primaryClusterIP != nil {
                servicesByName[service.name] = service
            }
        }
        return servicesByName.values.sorted { $0.name < $1.name }
    }
}
