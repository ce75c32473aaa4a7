/// The API server's name formats, so a registry that ClusterDNS accepts is one Kubernetes would
/// accept too, and every name can be a DNS label.
enum NameRules {
    /// RFC 1123 label (Service names, namespaces, port names, hostnames): `[a-z0-9]([-a-z0-9]*[a-z0-9])?`,
    /// at most 63. Service names were RFC 1035 labels (no leading digit) until kube-apiserver's
    /// relaxed Service-name validation; a name like `1kubernetes` is a DNS label all the same.
    static func isRFC1123Label(_ name: String) -> Bool {
        withBytes(of: name) { isRFC1123Label($0[...]) }
    }

    /// RFC 1123 subdomain (object names, ExternalName targets): dot-separated labels, at most 253.
    /// Checked in place, label by label: every object's name is checked, 120k for a large cluster.
    static func isRFC1123Subdomain(_ name: String) -> Bool {
        withBytes(of: name) { bytes in
            guard !bytes.isEmpty, bytes.count <= 253 else { return false }
            var start = bytes.startIndex
            while true {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: ".")) ?? bytes.endIndex
                guard isRFC1123Label(bytes[start..<end]) else { return false }
                guard end != bytes.endIndex else { return true }
                start = end + 1
            }
        }
    }

    private static func isRFC1123Label(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
        guard bytes.allSatisfy({ isLowerLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }) else { return false }
        return first != UInt8(ascii: "-") && last != UInt8(ascii: "-")
    }

    /// `body` over a name's UTF-8 where it lies (a native string's always does): stepping through
    /// `String.utf8` by its generic index cost more than the check itself, 4 % of a 50k List's load.
    private static func withBytes(of name: String, _ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        name.utf8.withContiguousStorageIfAvailable(body) ?? Array(name.utf8).withUnsafeBufferPointer(body)
    }

    /// IANA service name (a named `targetPort` or container port): at most 15 characters of
    /// `[a-z0-9-]`, at least one letter, no leading, trailing or double hyphen.
    static func isIANAServiceName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= 15, isRFC1123Label(name) else { return false }
        // Bytes, not `contains("--")`: on Linux that is Foundation's locale-aware search.
        return bytes.contains(where: isLowerLetter) && !zip(bytes, bytes.dropFirst()).contains { $0 == UInt8(ascii: "-") && $1 == UInt8(ascii: "-") }
    }

    static let rfc1123Expectation = "a lower-case RFC 1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters"
    static let subdomainExpectation = "a lower-case RFC 1123 subdomain: labels of a-z, 0-9 and '-' joined by '.', at most 253 characters"
    static let ianaExpectation = "an IANA service name: at most 15 characters of a-z, 0-9 and '-', with at least one letter"

    private static func isLowerLetter(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
