import Foundation
import NIOCore

/// An upstream resolver, as `--forward` names it: an IP address and a port (53 unless given).
/// Names are not accepted, as in CoreDNS: resolving the resolver's own name would need a resolver.
public struct UpstreamAddress: Hashable, Sendable, CustomStringConvertible {
    public let socketAddress: SocketAddress

    public init(_ socketAddress: SocketAddress) {
        self.socketAddress = socketAddress
    }

    /// Parses `1.2.3.4`, `1.2.3.4:53`, `::1`, `[::1]:53`.
    public init(parsing text: String) throws(ForwardingError) {
        var host = Substring(text)
        var port = 53
        if text.hasPrefix("[") {
            guard let closing = text.firstIndex(of: "]") else {
                throw ForwardingError(.badUpstream, "\(text): an IPv6 address in brackets needs its closing bracket")
            }
            host = text[text.index(after: text.startIndex)..<closing]
            let rest = text[text.index(after: closing)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let parsed = Self.port(rest.dropFirst()) else {
                    throw ForwardingError(.badUpstream, "\(text): expected [IPv6]:PORT with a port of 1 to 65535")
                }
                port = parsed
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            guard let parsed = Self.port(text[text.index(after: colon)...]) else {
                throw ForwardingError(.badUpstream, "\(text): expected ADDRESS:PORT with a port of 1 to 65535")
            }
            port = parsed
        }
        do {
            socketAddress = try SocketAddress(ipAddress: String(host), port: port)
        } catch {
            throw ForwardingError(.badUpstream, "\(text): not an IP address (upstreams are given by address, not by name)")
        }
    }

    public var description: String {
        let host = socketAddress.ipAddress ?? "?"
        let port = socketAddress.port ?? 53
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func port(_ text: Substring) -> Int? {
        guard (1...5).contains(text.count), text.allSatisfy(\.isASCII), let port = Int(text), (1...65535).contains(port) else { return nil }
        return port
    }

    /// The upstreams `--forward` values name, in order: an address each, or every nameserver of a
    /// resolv.conf given by its path (what a Deployment passes: `--forward /etc/resolv.conf`).
    public static func list(from arguments: [String]) throws(ForwardingError) -> [UpstreamAddress] {
        var upstreams: [UpstreamAddress] = []
        for argument in arguments {
            if argument.contains("/") {
                let text: String
                do {
                    text = try String(contentsOfFile: argument, encoding: .utf8)
                } catch {
                    throw ForwardingError(.badResolvConf, "cannot read it (\(error.localizedDescription))", location: argument)
                }
                upstreams += try resolvConf(text, path: argument)
            } else {
                upstreams.append(try UpstreamAddress(parsing: argument))
            }
        }
        var seen = Set<UpstreamAddress>()
        return upstreams.filter { seen.insert($0).inserted }
    }

    /// The `nameserver` lines of a resolv.conf, in order. glibc reads them the same way: the first
    /// word of a line, comments after `#` or `;`, the address as the second word.
    static func resolvConf(_ text: String, path: String) throws(ForwardingError) -> [UpstreamAddress] {
        var upstreams: [UpstreamAddress] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.prefix { $0 != "#" && $0 != ";" }
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard words.first == "nameserver" else { continue }
            guard words.count >= 2 else {
                throw ForwardingError(.badResolvConf, "nameserver without an address", location: "\(path):\(index + 1)")
            }
            do {
                upstreams.append(try UpstreamAddress(parsing: String(words[1])))
            } catch {
                throw ForwardingError(.badResolvConf, error.reason, location: "\(path):\(index + 1)")
            }
        }
        guard !upstreams.isEmpty else {
            throw ForwardingError(.badResolvConf, "no nameserver line", location: path)
        }
        return upstreams
    }
}
