/// What a source tells the registry. Files, etcd and the Kubernetes API all speak these four.
public enum RegistryEvent: Sendable {
    /// An object was created or changed (a new version replaces the old one whole).
    case upsert(RegistryObject)
    /// An object is gone.
    case delete(RegistryObjectKey)
    /// Everything the source holds, after a list or relist: objects it no longer lists are deleted,
    /// the others upserted. Applied as one change. Objects at `keeping` are neither: the source
    /// listed them in a version it could not use, so the version held stays (the last good one).
    case replaceAll([RegistryObject], keeping: Set<RegistryObjectKey> = [])
    /// The source has delivered a complete view at least once.
    case synced
}
