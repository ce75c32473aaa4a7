import Foundation

/// Where a pod finds its service account, as the kubelet mounts it.
enum KubernetesAccessPaths {
    static let serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount"
}

/// A service-account folder laid out as the kubelet's projected volume writes it: the files live
/// in a timestamped folder, `..data` links to it, and `token`, `ca.crt` and `namespace` link
/// through `..data`. An update writes a new folder and renames a new `..data` link over the old
/// one, so a reader sees the old files or the new ones, never a mix.
struct ServiceAccountProjection {
    let directory: URL

    func write(token: String, ca: String, namespace: String) throws {
        let files = FileManager.default
        try files.createDirectory(at: directory, withIntermediateDirectories: true)
        let previous = try? files.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("..data").path)
        let version = "..\(UUID().uuidString)"
        let folder = directory.appendingPathComponent(version)
        try files.createDirectory(at: folder, withIntermediateDirectories: false)
        try token.write(to: folder.appendingPathComponent("token"), atomically: false, encoding: .utf8)
        try ca.write(to: folder.appendingPathComponent("ca.crt"), atomically: false, encoding: .utf8)
        try namespace.write(to: folder.appendingPathComponent("namespace"), atomically: false, encoding: .utf8)
        let newLink = directory.appendingPathComponent("..data_tmp").path
        try files.createSymbolicLink(atPath: newLink, withDestinationPath: version)
        guard rename(newLink, directory.appendingPathComponent("..data").path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: newLink])
        }
        for name in ["token", "ca.crt", "namespace"] where (try? files.destinationOfSymbolicLink(atPath: directory.appendingPathComponent(name).path)) == nil {
            try files.createSymbolicLink(atPath: directory.appendingPathComponent(name).path, withDestinationPath: "..data/\(name)")
        }
        if let previous { try files.removeItem(at: directory.appendingPathComponent(previous)) }
    }
}
