import DNSWire

/// What a zone decides for one question; the server turns it into bytes.
public struct Answer: Hashable, Sendable {
    public var responseCode: ResponseCode
    /// True for every answer from a zone we are authoritative for.
    public var authoritative: Bool
    public var answers: [ResourceRecord]
    public var authority: [ResourceRecord]
    public var additional: [ResourceRecord]
    /// True when part of the answer came from an upstream resolver (forwarding): the RA bit.
    public var recursionAvailable: Bool

    public init(
        responseCode: ResponseCode = .noError,
        authoritative: Bool = true,
        answers: [ResourceRecord] = [],
        authority: [ResourceRecord] = [],
        additional: [ResourceRecord] = [],
        recursionAvailable: Bool = false
    ) {
        self.responseCode = responseCode
        self.authoritative = authoritative
        self.recursionAvailable = recursionAvailable
        self.answers = answers
        self.authority = authority
        self.additional = additional
    }

    /// REFUSED, not authoritative: for names outside every zone we hold.
    public static let refused = Answer(responseCode: .refused, authoritative: false)
}
