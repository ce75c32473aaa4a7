/// A domain name kept as its uncompressed wire bytes (length-prefixed labels ending in the root
/// label), with the case the client sent. Comparisons that mean "the same DNS name" are
/// case-insensitive (`equalsIgnoringCase`); `==` compares the exact bytes.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Wire form, always ending with a zero byte; at most 255 bytes.
    public private(set) var wire: [UInt8]

    public static let root = DNSName(uncheckedWire: [0])
    public static let maxLength = 255
    public static let maxLabelLength = 63

    init(uncheckedWire: [UInt8]) {
        self.wire = uncheckedWire
    }

    /// Parses presentation form (`web.shop.svc.cluster.local` or with the trailing dot). `\.` and
    /// `\DDD` escapes are understood.
    public init(_ text: some StringProtocol) throws(DNSWireError) {
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        let bytes = Array(text.utf8)
        if bytes == [UInt8(ascii: ".")] || bytes.isEmpty {
            self = .root
            return
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < bytes.count else { throw DNSWireError(.badName, "dangling escape in \(text)") }
                if index + 2 < bytes.count, let d0 = digit(bytes[index]), let d1 = digit(bytes[index + 1]), let d2 = digit(bytes[index + 2]) {
                    let value = d0 * 100 + d1 * 10 + d2
                    guard value <= 255 else { throw DNSWireError(.badName, "escape out of range in \(text)") }
                    current.append(UInt8(value))
                    index += 3
                    continue
                }
                current.append(bytes[index])
            } else if byte == UInt8(ascii: ".") {
                guard !current.isEmpty else { throw DNSWireError(.badName, "empty label in \(text)") }
                labels.append(current)
                current = []
            } else {
                current.append(byte)
            }
            index += 1
        }
        if !current.isEmpty { labels.append(current) }
        try self.init(labels: labels)
    }

    /// The reverse-lookup name of an address given as its 4 or 16 bytes: `d.c.b.a.in-addr.arpa.`
    /// or the 32 nibbles under `ip6.arpa.` (RFC 1035 §3.5, RFC 3596 §2.5); nil for another length.
    public static func reverseLookupName(ofAddress bytes: some Collection<UInt8>) -> DNSName? {
        var wire: [UInt8] = []
        wire.reserveCapacity(bytes.count == 4 ? 30 : 74)
        switch bytes.count {
        case 4:
            for byte in bytes.reversed() {
                let digits: [UInt8] = byte >= 100 ? [byte / 100, byte / 10 % 10, byte % 10] : byte >= 10 ? [byte / 10, byte % 10] : [byte]
                wire.append(UInt8(digits.count))
                for digit in digits { wire.append(UInt8(ascii: "0") + digit) }
            }
            wire += [7] + Array("in-addr".utf8) + [4] + Array("arpa".utf8) + [0]
        case 16:
            let hexDigits = Array("0123456789abcdef".utf8)
            for byte in bytes.reversed() {
                wire += [1, hexDigits[Int(byte & 0x0f)], 1, hexDigits[Int(byte >> 4)]]
            }
            wire += [3] + Array("ip6".utf8) + [4] + Array("arpa".utf8) + [0]
        default:
            return nil
        }
        return DNSName(uncheckedWire: wire)
    }

    /// Builds a name from labels, most specific first.
    public init(labels: some Sequence<some Collection<UInt8>>) throws(DNSWireError) {
        var wire: [UInt8] = []
        for label in labels {
            guard !label.isEmpty else { throw DNSWireError(.badName, "empty label") }
            guard label.count <= DNSName.maxLabelLength else {
                throw DNSWireError(.labelTooLong, "label of \(label.count) bytes (at most 63)")
            }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
        }
        wire.append(0)
        guard wire.count <= DNSName.maxLength else {
            throw DNSWireError(.nameTooLong, "name of \(wire.count) bytes (at most 255)")
        }
        self.wire = wire
    }

    /// Labels, most specific first, as slices of `wire`.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = 0
        while wire[index] != 0 {
            let length = Int(wire[index])
            result.append(wire[(index + 1)..<(index + 1 + length)])
            index += 1 + length
        }
        return result
    }

    public var labelCount: Int {
        var count = 0
        var index = 0
        while wire[index] != 0 {
            count += 1
            index += 1 + Int(wire[index])
        }
        return count
    }

    public var isRoot: Bool { wire.count == 1 }

    /// The name with its first `count` labels removed (`dropping(1)` of `a.b.c` is `b.c`).
    public func dropping(_ count: Int) -> DNSName {
        var index = 0
        for _ in 0..<count {
            guard wire[index] != 0 else { break }
            index += 1 + Int(wire[index])
        }
        return DNSName(uncheckedWire: Array(wire[index...]))
    }

    /// `label` + "." + self.
    public func prepending(_ label: some Collection<UInt8>) throws(DNSWireError) -> DNSName {
        guard !label.isEmpty else { throw DNSWireError(.badName, "empty label") }
        guard label.count <= DNSName.maxLabelLength else {
            throw DNSWireError(.labelTooLong, "label of \(label.count) bytes")
        }
        guard wire.count + label.count + 1 <= DNSName.maxLength else {
            throw DNSWireError(.nameTooLong, "name too long")
        }
        var combined: [UInt8] = []
        combined.reserveCapacity(1 + label.count + wire.count)
        combined.append(UInt8(label.count))
        combined.append(contentsOf: label)
        combined.append(contentsOf: wire)
        return DNSName(uncheckedWire: combined)
    }

    /// The name with `labels` (most specific first) in front, built in one allocation.
    public func prepending(labels: [String]) throws(DNSWireError) -> DNSName {
        var combined: [UInt8] = []
        combined.reserveCapacity(labels.reduce(wire.count) { $0 + $1.utf8.count + 1 })
        for label in labels {
            let count = label.utf8.count
            guard count > 0 else { throw DNSWireError(.badName, "empty label") }
            guard count <= DNSName.maxLabelLength else { throw DNSWireError(.labelTooLong, "label of \(count) bytes") }
            combined.append(UInt8(count))
            combined.append(contentsOf: label.utf8)
        }
        combined.append(contentsOf: wire)
        guard combined.count <= DNSName.maxLength else { throw DNSWireError(.nameTooLong, "name too long") }
        return DNSName(uncheckedWire: combined)
    }

    public func prepending(_ label: String) throws(DNSWireError) -> DNSName {
        try prepending(Array(label.utf8))
    }

    /// Concatenates two names: `self` followed by `suffix` (self's root label dropped).
    public func appending(_ suffix: DNSName) throws(DNSWireError) -> DNSName {
        let combined = Array(wire.dropLast()) + suffix.wire
        guard combined.count <= DNSName.maxLength else { throw DNSWireError(.nameTooLong, "name too long") }
        return DNSName(uncheckedWire: combined)
    }

    /// ASCII-lower-cased copy, for lookups; DNS case-folds only A-Z.
    public func lowercased() -> DNSName {
        DNSName(uncheckedWire: wire.map(DNSName.asciiLowercased))
    }

    public func equalsIgnoringCase(_ other: DNSName) -> Bool {
        guard wire.count == other.wire.count else { return false }
        for index in wire.indices where DNSName.asciiLowercased(wire[index]) != DNSName.asciiLowercased(other.wire[index]) {
            return false
        }
        return true
    }

    /// True when self equals `zone` or lies below it (case-insensitive).
    public func isSubdomain(of zone: DNSName) -> Bool {
        let extra = labelCount - zone.labelCount
        guard extra >= 0 else { return false }
        return dropping(extra).equalsIgnoringCase(zone)
    }

    /// Presentation form with a trailing dot; bytes outside printable ASCII and the special
    /// characters `.` `\` `"` `;` `(` `)` `@` `$` are escaped, as dig prints them.
    public var description: String {
        if isRoot { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"),
                    UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    text.append("\\")
                    text.append(Character(Unicode.Scalar(byte)))
                case 0x21...0x7e:
                    text.append(Character(Unicode.Scalar(byte)))
                default:
                    let value = String(byte)
                    text.append("\\" + String(repeating: "0", count: 3 - value.count) + value)
                }
            }
            text.append(".")
        }
        return text
    }
}

extension DNSName {
    /// DNS folds only A-Z (RFC 4343); every other byte compares as it is.
    @inlinable
    public static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    /// Labels as lower-cased strings, most specific first: the form names are matched in.
    public var lowercasedLabelStrings: [String] {
        labels.map { String(decoding: $0.lazy.map(DNSName.asciiLowercased), as: UTF8.self) }
    }
}

private func digit(_ byte: UInt8) -> Int? {
    byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
}
