/// The parts of `metadata` every kind needs: identity and labels.
struct ObjectMetadata {
    var name: String
    /// `default` when the manifest leaves it out, as kubectl does.
    var namespace: String
    /// `metadata.labels`, already checked; read as a dictionary only by the kinds that keep them
    /// (most objects need one label or none, and a dictionary per object was a tenth of the load).
    var labelsNode: ManifestNode?

    /// The labels whose values are strings (the others were reported when the metadata was read).
    var labels: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in labelsNode?.pairs ?? [] {
            if let text = value.string { result[key] = text }
        }
        return result
    }

    /// One label's value, if it is a string.
    func label(_ key: String) -> String? {
        labelsNode?[key]?.string
    }
}
