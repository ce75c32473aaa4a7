import ClusterZones
import DNSWire
import NIOCore
import ServiceRegistry

/// The messages of one response to a zone transfer query, made one at a time as the connection
/// takes them, so a large zone is never held encoded whole: a list of records (the zone's, or an
/// IXFR's versions) split into messages of at most `maxSize` bytes, each with the query's ID and
/// question; or one error message.
public struct TransferMessages: IteratorProtocol {
    /// What the response is, for the log: `AXFR`, `IXFR`, `IXFR as AXFR`, `IXFR up to date`, or an rcode.
    public let kind: String
    /// The zone asked for.
    public let zone: DNSName
    /// Records sent, the closing SOA included.
    public let recordCount: Int
    private let records: [ResourceRecord]
    private let closing: ResourceRecord?
    private var encoder: StreamedResponseEncoder
    private var index = 0
    private var single: ByteBuffer?
    private var isDone = false

    /// The records `records`, then `closing`, split into messages.
    public init(kind: String, zone: DNSName, header: DNSHeader, question: DNSQuestion, records: [ResourceRecord], closing: ResourceRecord?, maxSize: Int = 65535) {
        self.kind = kind
        self.zone = zone
        self.records = records
        self.closing = closing
        self.recordCount = records.count + (closing == nil ? 0 : 1)
        self.encoder = StreamedResponseEncoder(header: header, question: question, maxSize: maxSize)
    }

    /// One message with no records: an error (REFUSED, NOTAUTH, FORMERR, SERVFAIL).
    init(error code: ResponseCode, to header: DNSHeader, question: DNSQuestion?) {
        kind = code.description
        zone = question?.name ?? .root
        recordCount = 0
        records = []
        closing = nil
        let responseHeader = DNSHeader.response(to: header, responseCode: code, authoritative: false)
        encoder = StreamedResponseEncoder(header: responseHeader, question: question ?? DNSQuestion(name: .root, type: .axfr))
        single = ByteBuffer(bytes: DNSMessageEncoder.encode(DNSMessage(header: responseHeader, questions: question.map { [$0] } ?? [])))
    }

    public mutating func next() -> ByteBuffer? {
        if let message = single {
            single = nil
            isDone = true
            return message
        }
        guard !isDone else { return nil }
        while index < records.count {
            let record = records[index]
            index += 1
            if let full = encoder.append(record) { return full }
        }
        if index == records.count, let closing {
            index += 1
            if let full = encoder.append(closing) { return full }
        }
        isDone = true
        return encoder.finish()
    }
}

/// Who may transfer the zones, the history IXFR answers from, and who hears of each new serial:
/// what `serve --transfer-to` and `--notify` configure. Without it every transfer is REFUSED.
public final class ZoneTransfers: Sendable {
    /// Clients whose address is in one of these may transfer; no network, nobody.
    public let allowed: [IPNetwork]
    public let history: TransferHistory
    public let notifier: NotifySender?

    public init(allowed: [IPNetwork], history: TransferHistory = TransferHistory(), notifier: NotifySender? = nil) {
        self.allowed = allowed
        self.history = history
        self.notifier = notifier
    }

    /// Whether `client` may transfer zones. An address mapped from IPv4 into IPv6 counts as the
    /// IPv4 address.
    public func permits(_ client: IPAddress?) -> Bool {
        guard let client else { return false }
        return allowed.contains { $0.contains(client) || $0.contains(Self.unmapped(client)) }
    }

    /// `::ffff:a.b.c.d` as `a.b.c.d`; any other address as it is.
    static func unmapped(_ address: IPAddress) -> IPAddress {
        guard case .v6(let high, let low) = address, high == 0, low >> 32 == 0xffff else { return address }
        return .v4(UInt32(truncatingIfNeeded: low))
    }

    /// A registry change was published: keep its difference, and tell the secondaries.
    func published(from old: Catalog, to new: Catalog, changedNames: some Collection<DNSName>) {
        history.record(from: old, to: new, changedNames: changedNames)
        notifier?.notify(new.soaRecords)
    }

    /// The zones were built anew: no difference to the versions before is known.
    func rebuilt(_ catalog: Catalog) {
        history.reset()
        notifier?.notify(catalog.soaRecords)
    }

    /// The response to the transfer query `query` (decoded) from `client`, for `catalog`.
    ///
    /// - Outside every `allowed` network: REFUSED, as CoreDNS's transfer plugin answers (Knot DNS
    ///   says NOTAUTH, which RFC 2845 gives to TSIG failures; a refusal by address is REFUSED).
    /// - A name that is not the apex of a zone held: NOTAUTH (RFC 5936 §2.2.1).
    /// - IXFR (RFC 1995) with the client's serial current or newer: the SOA alone; within the
    ///   history: the versions since; otherwise the whole zone, as RFC 1995 §4 allows.
    func response(to query: DNSMessage, from client: IPAddress?, catalog: Catalog) -> TransferMessages {
        guard query.questions.count == 1, query.answers.isEmpty else {
            return TransferMessages(error: .formatError, to: query.header, question: query.questions.first)
        }
        let question = query.questions[0]
        guard permits(client) else { return TransferMessages(error: .refused, to: query.header, question: question) }
        guard question.class == .in, let zone = catalog.zone(withOrigin: question.name) else {
            guard !catalog.isAwaitingRegistry else { return TransferMessages(error: .serverFailure, to: query.header, question: question) }
            return TransferMessages(error: .notAuthoritative, to: query.header, question: question)
        }
        // The registry's zones wait for it; a static zone was read whole before serving began.
        guard !catalog.isAwaitingRegistry || zone is StaticZone else {
            return TransferMessages(error: .serverFailure, to: query.header, question: question)
        }
        let header = DNSHeader.response(to: query.header, responseCode: .noError, authoritative: true)
        // The zone's own SOA: a static zone's is its file's, an external zone's names its own
        // name server; the registry's zones answer the registry's serial.
        guard let soa = zone.apexSOA, case .soa(let ours) = soa.data else {
            return TransferMessages(error: .serverFailure, to: query.header, question: question)
        }
        let serial = ours.serial
        if question.type == .ixfr {
            guard case .soa(let theirs)? = query.authority.first?.data else {
                return TransferMessages(error: .formatError, to: query.header, question: question)
            }
            if !Self.isOlder(theirs.serial, than: serial) {
                return TransferMessages(kind: "IXFR up to date", zone: zone.origin, header: header, question: question, records: [soa], closing: nil)
            }
            if let versions = history.differences(of: zone.origin, from: theirs.serial, to: serial) {
                var records = [soa]
                for version in versions {
                    records.append(catalog.soaRecord(ofZone: zone.origin, serial: version.oldSerial))
                    records += version.deleted
                    records.append(catalog.soaRecord(ofZone: zone.origin, serial: version.newSerial))
                    records += version.added
                }
                return TransferMessages(kind: "IXFR", zone: zone.origin, header: header, question: question, records: records, closing: soa)
            }
        }
        let records = zone.transferRecords()
        let kind = question.type == .ixfr ? "IXFR as AXFR" : "AXFR"
        return TransferMessages(kind: kind, zone: zone.origin, header: header, question: question, records: records, closing: records.first)
    }

    /// Static zones were read again: NOTIFY for each one that is new or whose file's serial changed.
    func reloaded(from old: [StaticZone], to new: [StaticZone]) {
        let before = Dictionary(old.compactMap { zone in zone.apexSOA.map { (zone.origin, $0) } }, uniquingKeysWith: { first, _ in first })
        let changed = new.compactMap(\.apexSOA).filter { before[$0.name] != $0 }
        if !changed.isEmpty { notifier?.notify(changed) }
    }

    /// Tells the secondaries of `catalog`'s serial (at start, when nothing changed yet).
    public func announce(_ catalog: Catalog) {
        let staticSOAs = catalog.staticZones.compactMap(\.apexSOA)
        notifier?.notify(catalog.soaRecords + staticSOAs)
    }

    /// RFC 1982 serial arithmetic: whether `serial` comes before `other`.
    static func isOlder(_ serial: UInt32, than other: UInt32) -> Bool {
        serial != other && (other &- serial) < (1 << 31)
    }

    /// Whether `query` (a TCP message's bytes) asks for AXFR or IXFR: read from the header and the
    /// question's type without decoding, so other queries pay two comparisons.
    static func isTransferQuery(_ query: ByteBuffer) -> Bool {
        query.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 17, bytes[2] & 0xf8 == 0, bytes[4] == 0, bytes[5] == 1 else { return false }
            var offset = 12
            while offset < bytes.count, bytes[offset] != 0 {
                guard bytes[offset] & 0xc0 == 0 else { return false }
                offset += 1 + Int(bytes[offset])
            }
            guard offset + 2 < bytes.count, bytes[offset + 1] == 0 else { return false }
            return bytes[offset + 2] == UInt8(RecordType.axfr.rawValue) || bytes[offset + 2] == UInt8(RecordType.ixfr.rawValue)
        }
    }
}

extension Catalog {
    /// Each registry zone's SOA now (the cluster zone, the reverse zones, the external zones):
    /// what a NOTIFY announces when the registry changes. Each zone answers its own, so an
    /// external zone's names its own name server.
    var soaRecords: [ResourceRecord] {
        // Asked of the catalog, not the zones: while the registry is awaited it answers none.
        (origins + externalZones.map(\.origin)).compactMap { answer(DNSQuestion(name: $0, type: .soa)).answers.first }
    }
}
