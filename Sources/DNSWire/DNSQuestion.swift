/// One entry of the question section.
public struct DNSQuestion: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    public var type: RecordType
    public var `class`: DNSClass

    public init(name: DNSName, type: RecordType, class: DNSClass = .in) {
        self.name = name
        self.type = type
        self.class = `class`
    }

    public var description: String { "\(name) \(`class`) \(type)" }
}
