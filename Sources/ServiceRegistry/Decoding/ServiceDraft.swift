/// A decoded Service before the registry is assembled: what it asked for that the model does not
/// keep, because allocation still needs it.
struct ServiceDraft {
    var service: Service
    /// `spec.ipFamilies`, primary first; empty when the manifest does not say.
    var ipFamilies: [IPFamily]
    /// `ipFamilyPolicy` is PreferDualStack or RequireDualStack (or two ipFamilies are listed).
    var wantsDualStack: Bool
    /// `ipFamilyPolicy: RequireDualStack`: allocation fails rather than give one family only.
    var requiresDualStack: Bool

    /// True when the API server would have allocated ClusterIPs this manifest does not carry.
    var needsAllocation: Bool {
        let service = self.service
        guard !service.isHeadless, service.type != .externalName else { return false }
        if service.clusterIPs.isEmpty { return true }
        return wantsDualStack && service.clusterIPs.count == 1
    }
}
