import Foundation

/// Finds the example cluster: the checkout's `zones/` when the binary was built from one (so
/// edits reload live), else the copy bundled with the binary (so it runs from anywhere).
enum ExampleCluster {
    /// The registry paths a command was given, or the example cluster when it was given none.
    static func paths(or given: [String]) throws -> [String] {
        given.isEmpty ? [try path()] : given
    }

    static func path() throws -> String {
        let checkout = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("zones").path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: checkout, isDirectory: &isDirectory), isDirectory.boolValue {
            return checkout
        }
        if let bundled = Bundle.module.url(forResource: "example-cluster", withExtension: nil) {
            return bundled.path
        }
        throw ExampleClusterMissing()
    }
}

struct ExampleClusterMissing: Error, CustomStringConvertible {
    var description: String { "the bundled example cluster is missing; pass --registry PATH" }
}
