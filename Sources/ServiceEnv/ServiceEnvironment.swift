import ServiceRegistry

/// The service environment variables the kubelet would give a pod in one namespace, in a fixed
/// order, with every name clash between Services recorded instead of silently resolved.
public struct ServiceEnvironment: Hashable, Sendable {
    public let namespace: String
    public let enableServiceLinks: Bool
    /// The Services that contributed, sorted by name (the order of their blocks).
    public let services: [Service]
    /// Each name at most once. Blocks are concatenated in Service order and a later write of a
    /// name replaces the earlier one, exactly as sourcing every line in order would end up.
    public let variables: [EnvironmentVariable]
    public let collisions: [VariableCollision]

    public init(snapshot: RegistrySnapshot, namespace: String, enableServiceLinks: Bool = true) {
        self.init(
            services: ServiceSelection.services(in: snapshot, podNamespace: namespace, enableServiceLinks: enableServiceLinks),
            namespace: namespace,
            enableServiceLinks: enableServiceLinks
        )
    }

    /// Builds the variables of already-chosen Services, in the order given.
    public init(services: [Service], namespace: String, enableServiceLinks: Bool = true) {
        self.namespace = namespace
        self.enableServiceLinks = enableServiceLinks
        self.services = services

        var written: [(variable: EnvironmentVariable, service: ObjectReference)] = []
        var indexByName: [String: Int] = [:]
        var collisions: [VariableCollision] = []
        var overwrittenIndexes: Set<Int> = []
        for service in services {
            for variable in ServiceLinkVariables.variables(for: service) {
                if let earlier = indexByName[variable.name] {
                    let previous = written[earlier]
                    collisions.append(VariableCollision(
                        name: variable.name,
                        overwritten: previous.service, overwrittenValue: previous.variable.value,
                        winner: service.reference, winningValue: variable.value
                    ))
                    overwrittenIndexes.insert(earlier)
                }
                indexByName[variable.name] = written.count
                written.append((variable, service.reference))
            }
        }
        self.variables = written.indices.filter { !overwrittenIndexes.contains($0) }.map { written[$0].variable }
        self.collisions = collisions
    }

    /// The environment a program started with these variables sees: `current` unchanged and in
    /// order, then each service variable whose name `current` lacks. The current environment wins,
    /// as a container's own `env` wins over the kubelet's service variables.
    public func merged(into current: [EnvironmentVariable]) -> [EnvironmentVariable] {
        let present = Set(current.map(\.name))
        return current + variables.filter { !present.contains($0.name) }
    }
}
