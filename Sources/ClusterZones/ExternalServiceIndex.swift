import ServiceRegistry

/// How many Services of each namespace have a name in the external zones, so that `<ns>.<zone>`
/// exists (an empty non-terminal) exactly while one does. Kept by the catalog and patched per
/// change like its other indexes: a lookup never walks the Services.
struct ExternalServiceIndex: Sendable {
    private var counts: [String: Int] = [:]

    func hasServices(inNamespace namespace: String) -> Bool {
        counts[ObjectKey.folded(namespace), default: 0] > 0
    }

    mutating func add(_ service: Service) {
        guard service.hasExternalName else { return }
        counts[ObjectKey.folded(service.namespace), default: 0] += 1
    }

    mutating func remove(_ service: Service) {
        guard service.hasExternalName else { return }
        let namespace = ObjectKey.folded(service.namespace)
        let count = counts[namespace, default: 0] - 1
        counts[namespace] = count > 0 ? count : nil
    }
}
