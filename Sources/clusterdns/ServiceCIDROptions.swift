import ArgumentParser
import ServiceRegistry

/// `--service-cidr`, shared by every command that loads a registry: the ranges ClusterIPs are
/// allocated from for services whose manifest has none, so every command allocates the same IPs.
struct ServiceCIDROptions: ParsableArguments {
    @Option(
        name: .customLong("service-cidr"),
        help: ArgumentHelp("A service CIDR ClusterIPs are allocated from; repeat for dual-stack. (default: 10.96.0.0/12)", valueName: "cidr"),
        transform: { text in
            guard let network = IPNetwork(text) else {
                throw ValidationError("--service-cidr '\(text)' is not a network such as 10.96.0.0/12 or fd00:10:96::/112")
            }
            return network
        }
    )
    var serviceCIDRs: [IPNetwork] = []

    var registryOptions: RegistryOptions {
        serviceCIDRs.isEmpty ? RegistryOptions() : RegistryOptions(serviceCIDRs: serviceCIDRs)
    }
}
