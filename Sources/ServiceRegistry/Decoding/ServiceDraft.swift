/// A decoded Service before the registry is assembled: what it asked for that the model does not
/// keep, because allocation still needs it.
struct ServiceDraft: Hashable, Sendable {
    /// `spec.ipFamilyPolicy`.
    enum FamilyPolicy: String, Hashable, Sendable {
        case singleStack = "SingleStack"
        case preferDualStack = "PreferDualStack"
        case requireDualStack = "RequireDualStack"
    }

    // The flags right after the Service, in what its last word leaves free.
    var service: Service
    /// The policy is PreferDualStack or RequireDualStack, given or defaulted.
    var wantsDualStack: Bool
    /// The policy is RequireDualStack: allocation fails rather than give one family only.
    var requiresDualStack: Bool
    /// `spec.ipFamilies`, primary first, completed from the ClusterIPs as the API server does;
    /// empty only when neither says (allocation then picks the cluster's primary family).
    var ipFamilies: [IPFamily]

    /// Applies the API server's defaulting (`initIPFamilyFields`): a Service without a policy that
    /// lists two families or two ClusterIPs is RequireDualStack, otherwise SingleStack; families the
    /// manifest leaves out are those of its ClusterIPs, in order.
    /// `service` is stored last, after its last read: a decoder's Service, handed over as its
    /// last use, can then be moved in rather than copied (a dozen references).
    init(service: Service, listedFamilies: [IPFamily], policy: FamilyPolicy?) {
        var families = listedFamilies
        for address in service.clusterIPs.dropFirst(families.count) {
            families.append(IPFamily(of: address))
        }
        self.ipFamilies = families
        let policy = policy ?? (listedFamilies.count == 2 || service.clusterIPs.count == 2 ? .requireDualStack : .singleStack)
        self.wantsDualStack = policy != .singleStack
        self.requiresDualStack = policy == .requireDualStack
        self.service = service
    }

    /// True when the API server would have allocated ClusterIPs this manifest does not carry.
    var needsAllocation: Bool {
        guard !service.isHeadless, service.type != .externalName else { return false }
        if service.clusterIPs.isEmpty { return true }
        return wantsDualStack && service.clusterIPs.count == 1
    }
}
