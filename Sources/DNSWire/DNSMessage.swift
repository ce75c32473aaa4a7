/// A whole DNS message. Section counts come from the arrays; EDNS lives in `edns`, not in
/// `additional`.
public struct DNSMessage: Hashable, Sendable {
    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [ResourceRecord]
    public var authority: [ResourceRecord]
    public var additional: [ResourceRecord]
    public var edns: EDNS?

    public init(
        header: DNSHeader = DNSHeader(),
        questions: [DNSQuestion] = [],
        answers: [ResourceRecord] = [],
        authority: [ResourceRecord] = [],
        additional: [ResourceRecord] = [],
        edns: EDNS? = nil
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
        self.edns = edns
    }

    /// The full response code: header bits plus the OPT record's extended bits.
    public var responseCode: ResponseCode {
        ResponseCode(rawValue: header.responseCode.rawValue | (edns?.extendedResponseCode ?? 0) << 4)
    }

    /// A query for one name and type, as a stub resolver would send it.
    public static func query(id: UInt16, name: DNSName, type: RecordType, recursionDesired: Bool = true, edns: EDNS? = nil) -> DNSMessage {
        var header = DNSHeader(id: id)
        header.recursionDesired = recursionDesired
        return DNSMessage(header: header, questions: [DNSQuestion(name: name, type: type)], edns: edns)
    }
}
