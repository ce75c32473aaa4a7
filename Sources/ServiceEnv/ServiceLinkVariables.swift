import ServiceRegistry

/// The kubelet's `envvars.FromServices` for one Service: the Docker-links-style variables, in the
/// kubelet's exact order, so a container outside the cluster sees byte-for-byte what a pod would.
public enum ServiceLinkVariables {
    /// The variables of one Service, or none when it has no ClusterIP (headless, ExternalName,
    /// unallocated) or no ports (the kubelet would index `ports[0]` and panic; we skip instead).
    ///
    /// Order: `_SERVICE_HOST`, `_SERVICE_PORT` (first port in spec order), `_SERVICE_PORT_<NAME>` per
    /// named port, `_PORT` (URL of the first port), then per port its URL, `_PROTO`, `_PORT`, `_ADDR`.
    public static func variables(for service: Service) -> [EnvironmentVariable] {
        guard let clusterIP = service.primaryClusterIP, let firstPort = service.ports.first else { return [] }
        let prefix = variableName(service.name)
        let host = clusterIP.description
        var variables = [
            EnvironmentVariable(name: prefix + "_SERVICE_HOST", value: host),
            EnvironmentVariable(name: prefix + "_SERVICE_PORT", value: String(firstPort.port)),
        ]
        for port in service.ports where !port.name.isEmpty {
            variables.append(EnvironmentVariable(name: prefix + "_SERVICE_PORT_" + variableName(port.name), value: String(port.port)))
        }
        variables.append(EnvironmentVariable(name: prefix + "_PORT", value: url(host: host, port: firstPort)))
        for port in service.ports {
            let linkName = "\(prefix)_PORT_\(port.port)_\(port.protocol.rawValue)"
            variables.append(EnvironmentVariable(name: linkName, value: url(host: host, port: port)))
            variables.append(EnvironmentVariable(name: linkName + "_PROTO", value: port.protocol.lowercased))
            variables.append(EnvironmentVariable(name: linkName + "_PORT", value: String(port.port)))
            variables.append(EnvironmentVariable(name: linkName + "_ADDR", value: host))
        }
        return variables
    }

    /// The kubelet's `makeEnvVariableName`: upper-cased, `-` turned into `_`, nothing else
    /// (a port name may start with a digit and stays that way).
    public static func variableName(_ name: String) -> String {
        name.replacing("-", with: "_").uppercased()
    }

    /// `tcp://10.0.0.1:80`, `udp://[fd00::1]:53`: Go's `net.JoinHostPort` brackets any host with a `:`.
    static func url(host: String, port: ServicePort) -> String {
        let hostPort = host.contains(":") ? "[\(host)]:\(port.port)" : "\(host):\(port.port)"
        return "\(port.protocol.lowercased)://\(hostPort)"
    }
}
