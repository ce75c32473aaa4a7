#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address held as integers, so snapshots stay compact and comparisons are cheap.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(UInt32)
    /// The 128 bits as two big-endian halves: `high` holds the first 8 bytes.
    case v6(high: UInt64, low: UInt64)

    public var isIPv4: Bool { if case .v4 = self { return true } else { return false } }
    public var isIPv6: Bool { !isIPv4 }

    /// Parses dotted-quad IPv4 or any textual IPv6 form `inet_pton` accepts; nil otherwise.
    public init?(_ text: some StringProtocol) {
        var string = String(text)
        guard let address = string.withUTF8({ IPAddress(utf8: $0) }) else { return nil }
        self = address
    }

    /// Parses the UTF-8 of dotted-quad IPv4 or of any textual IPv6 form `inet_pton` accepts; nil
    /// otherwise. IPv4 is read here, by `inet_pton(AF_INET)`'s rules (four decimal parts of at most
    /// 255, no leading zero: not the short and octal forms `inet_aton` takes): a load reads some
    /// 100k addresses of a large cluster, and the C string and call took 1,400 instructions each.
    public init?(utf8 text: UnsafeBufferPointer<UInt8>) {
        if let value = Self.dottedQuad(text) {
            self = .v4(value)
            return
        }
        guard text.contains(UInt8(ascii: ":")) else { return nil }
        var storage = in6_addr()
        guard inet_pton(AF_INET6, String(decoding: text, as: UTF8.self), &storage) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &storage) { Array($0) }
        self.init(ipv6Bytes: bytes)
    }

    private static func dottedQuad(_ text: UnsafeBufferPointer<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in text {
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                // A part with a leading zero ("01") is refused, as inet_pton refuses it.
                guard digits == 0 || part != 0 else { return nil }
                part = part * 10 + UInt32(digit)
                guard part <= 255 else { return nil }
                digits += 1
            } else if byte == UInt8(ascii: "."), digits > 0, dots < 3 {
                value = value << 8 | part
                (part, digits) = (0, 0)
                dots += 1
            } else {
                return nil
            }
        }
        guard digits > 0, dots == 3 else { return nil }
        return value << 8 | part
    }

    /// Builds an address from 4 or 16 network-order bytes.
    public init?(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        switch array.count {
        case 4:
            self = .v4(array.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            self.init(ipv6Bytes: array)
        default:
            return nil
        }
    }

    private init(ipv6Bytes bytes: [UInt8]) {
        let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        self = .v6(high: high, low: low)
    }

    /// The address in network byte order (4 or 16 bytes).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// Canonical text: dotted quad, or RFC 5952 IPv6 as `inet_ntop` writes it.
    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
        case .v6:
            var storage = in6_addr()
            let raw = bytes
            withUnsafeMutableBytes(of: &storage) { buffer in
                for index in 0..<16 { buffer[index] = raw[index] }
            }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &storage, &text, socklen_t(INET6_ADDRSTRLEN))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The DNS label form used for endpoint and pod names: `10-1-2-3`, `fd00-1--5`;
    /// a trailing `-` gets a `0` so the label never ends with a hyphen.
    public var dashed: String {
        switch self {
        case .v4:
            return description.replacingOccurrences(of: ".", with: "-")
        case .v6:
            var text = description.replacingOccurrences(of: ":", with: "-")
            if text.hasSuffix("-") { text += "0" }
            if text.hasPrefix("-") { text = "0" + text }
            return text
        }
    }

    /// Parses the dashed label form back: exactly three `-` and no `--` means IPv4, else IPv6.
    public init?(dashed label: some StringProtocol) {
        let text = String(label)
        let dashes = text.filter { $0 == "-" }.count
        if dashes == 3 && !text.contains("--") {
            self.init(text.replacingOccurrences(of: "-", with: "."))
            if case .v6 = self { return nil }
        } else {
            self.init(text.replacingOccurrences(of: "-", with: ":"))
            if case .v4 = self { return nil }
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case (.v6(let ah, let al), .v6(let bh, let bl)): return (ah, al) < (bh, bl)
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
