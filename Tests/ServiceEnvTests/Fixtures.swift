import ServiceEnv
import ServiceRegistry

/// Small builders so each test states only what matters to its rule.
enum Fixtures {
    static func service(
        _ name: String,
        namespace: String = "shop",
        clusterIPs: [String] = ["10.96.0.10"],
        type: ServiceType = .clusterIP,
        headless: Bool = false,
        externalName: String? = nil,
        ports: [ServicePort] = [ServicePort(port: 80)]
    ) -> Service {
        Service(
            name: name,
            namespace: namespace,
            type: type,
            clusterIPs: clusterIPs.map { IPAddress($0)! },
            isHeadless: headless,
            externalName: externalName,
            ports: ports
        )
    }

    static func snapshot(services: [Service], pods: [Pod] = [], namespaces: [String] = []) -> RegistrySnapshot {
        RegistrySnapshot(serial: 1, services: services, endpointGroups: [:], pods: pods, namespaces: namespaces)
    }

    /// The control plane's Service as every cluster has it: port 443 named `https`.
    static let masterService = service(
        "kubernetes", namespace: "default", clusterIPs: ["10.96.0.1"],
        ports: [ServicePort(name: "https", port: 443)]
    )
}

extension [EnvironmentVariable] {
    var names: [String] { map(\.name) }

    subscript(name: String) -> String? { first { $0.name == name }?.value }
}

/// `NAME=value` pairs written as a literal table.
func variables(_ pairs: KeyValuePairs<String, String>) -> [EnvironmentVariable] {
    pairs.map { EnvironmentVariable(name: $0.key, value: $0.value) }
}
