/// Why a message could not be read or written. Equality compares the code, so tests can expect one.
public struct DNSWireError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Fewer than 12 bytes: there is no header to answer, so servers drop the datagram.
        public static let truncatedHeader = Code("truncatedHeader")
        /// The message ends in the middle of a field.
        public static let truncatedMessage = Code("truncatedMessage")
        public static let labelTooLong = Code("labelTooLong")
        public static let nameTooLong = Code("nameTooLong")
        /// A compression pointer that points forward, at itself, or loops.
        public static let badPointer = Code("badPointer")
        /// Label types 0b01 and 0b10 (RFC 6891 obsoleted them); never valid here.
        public static let badLabelType = Code("badLabelType")
        public static let badQuestionCount = Code("badQuestionCount")
        public static let badRecord = Code("badRecord")
        public static let trailingBytes = Code("trailingBytes")
        public static let badEDNS = Code("badEDNS")
        public static let badName = Code("badName")
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }

    public static func == (lhs: DNSWireError, rhs: DNSWireError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
