/// Where a listener binds, as written on a command line: `127.0.0.1:5353`, `[::1]:5353`,
/// `localhost:53`. Kept as text (not a resolved socket address) so that `localhost` is resolved
/// when the listener starts, and so the flag round-trips through `description` unchanged.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    /// A host name or an IP literal; IPv6 literals are stored without their brackets.
    public var host: String
    /// 0...65535; 0 asks the system for a free port.
    public var port: Int

    /// Parses `host:port` or `[ipv6]:port`; nil for anything malformed, such as a missing port,
    /// a port above 65535, an empty host or an IPv6 literal without brackets.
    public init?(_ text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let closing = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<closing]
            let afterBracket = text[text.index(after: closing)...]
            guard afterBracket.hasPrefix(":"), Self.isIPv6Literal(host) else { return nil }
            portText = afterBracket.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard Self.isHostName(host) else { return nil }
        }
        guard let port = Self.port(portText) else { return nil }
        self.host = String(host)
        self.port = port
    }

    /// Makes an address from parts that are already known to be good, such as a default.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Digits only (no sign, no spaces), at most five of them, within 0...65535.
    private static func port(_ text: Substring) -> Int? {
        guard (1...5).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(text), port <= 65535 else { return nil }
        return port
    }

    /// Host names and IPv4 literals: letters, digits, `-`, `_` and `.`; no colon, so an
    /// unbracketed IPv6 literal is rejected rather than split at its last colon.
    private static func isHostName(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count <= 253 && text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
        }
    }

    /// Hex digits and colons, at least one colon, optionally an embedded IPv4 tail and a `%zone`.
    private static func isIPv6Literal(_ text: Substring) -> Bool {
        let address = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
        guard let literal = address.first, literal.contains(":"), address.count == 1 || !address[1].isEmpty else { return false }
        return literal.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isASCIIHexDigit || scalar == ":" || scalar == ".")
        }
    }
}
