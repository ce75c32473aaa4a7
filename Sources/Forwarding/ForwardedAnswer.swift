import DNSWire

/// What the forwarder gives for one question: the sections to send (TTLs as they stand now) and
/// where they came from. The server turns it into a response with its one encoder.
public struct ForwardedAnswer: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// An upstream's reply to this query.
        case upstream
        /// A fresh cached reply.
        case cache
        /// An expired cached reply, because no upstream answered (RFC 8767).
        case stale
        /// Not asked: too many queries in flight (REFUSED).
        case overLimit
        /// No upstream answered and nothing was cached (SERVFAIL).
        case failed
    }

    public var responseCode: ResponseCode
    public var answers: [ResourceRecord]
    public var authority: [ResourceRecord]
    public var additional: [ResourceRecord]
    public var source: Source

    public init(
        responseCode: ResponseCode, answers: [ResourceRecord] = [], authority: [ResourceRecord] = [],
        additional: [ResourceRecord] = [], source: Source
    ) {
        self.responseCode = responseCode
        self.answers = answers
        self.authority = authority
        self.additional = additional
        self.source = source
    }

    init(_ message: DNSMessage, source: Source) {
        self.init(
            responseCode: message.responseCode, answers: message.answers, authority: message.authority,
            additional: message.additional, source: source)
    }

    static let failed = ForwardedAnswer(responseCode: .serverFailure, source: .failed)
    static let overLimit = ForwardedAnswer(responseCode: .refused, source: .overLimit)

    /// Every record's TTL passed through `change`.
    func mapTTLs(_ change: (UInt32) -> UInt32) -> ForwardedAnswer {
        func map(_ records: [ResourceRecord]) -> [ResourceRecord] {
            records.map { record in
                var record = record
                record.ttl = change(record.ttl)
                return record
            }
        }
        var copy = self
        copy.answers = map(answers)
        copy.authority = map(authority)
        copy.additional = map(additional)
        return copy
    }
}
