/// The parts of `metadata` every kind needs: identity and labels.
struct ObjectMetadata {
    var name: String
    /// `default` when the manifest leaves it out, as kubectl does.
    var namespace: String
    var labels: [String: String]
}
