import DNSWire
import ServiceRegistry
import Synchronization

/// What one registry change did to one zone: the step from one serial to the next that an
/// incremental transfer (RFC 1995) sends as `SOA old, deleted, SOA new, added`.
public struct ZoneDifference: Sendable, Equatable {
    public let oldSerial: UInt32
    public let newSerial: UInt32
    public let deleted: [ResourceRecord]
    public let added: [ResourceRecord]

    var recordCount: Int { deleted.count + added.count }
}

/// How much change history a zone keeps for IXFR: past either bound the oldest versions go, and a
/// secondary that far behind gets the whole zone instead.
public struct TransferHistoryLimits: Sendable {
    /// Versions kept per zone.
    public var versions: Int
    /// Deleted and added records kept per zone, over all its versions.
    public var records: Int

    public init(versions: Int = 100, records: Int = 100_000) {
        self.versions = versions
        self.records = records
    }
}

/// The recent versions of every zone, as differences between consecutive catalogs, for IXFR.
///
/// A registry change already knows which names it touched (`Catalog.applying`), so a difference is
/// the records at those names in the old catalog against those in the new one: the cost of a
/// change grows with the change, not the zone. Kept only when transfers are configured.
public final class TransferHistory: Sendable {
    public let limits: TransferHistoryLimits
    private let zones = Mutex<[DNSName: [ZoneDifference]]>([:])

    public init(limits: TransferHistoryLimits = TransferHistoryLimits()) {
        self.limits = limits
    }

    /// Records the step from `old` to `new`, whose answers differ at most at `changedNames` (as
    /// `Catalog.applying` returned them). Every zone gets a version, empty or not, since every
    /// change moves every zone's serial.
    public func record(from old: Catalog, to new: Catalog, changedNames: some Collection<DNSName>) {
        let oldSerial = old.snapshot.serial
        let newSerial = new.snapshot.serial
        guard oldSerial != newSerial else { return }
        var deleted: [DNSName: [ResourceRecord]] = [:]
        var added: [DNSName: [ResourceRecord]] = [:]
        for name in changedNames {
            guard let zone = new.zone(holding: name), zone.origin != name else { continue }
            let before = old.transferRecords(at: name)
            let after = new.transferRecords(at: name)
            guard before != after else { continue }
            let kept = Set(before).intersection(after)
            deleted[zone.origin, default: []] += before.filter { !kept.contains($0) }
            added[zone.origin, default: []] += after.filter { !kept.contains($0) }
        }
        zones.withLock { zones in
            for origin in new.origins {
                let difference = ZoneDifference(
                    oldSerial: oldSerial, newSerial: newSerial, deleted: deleted[origin] ?? [], added: added[origin] ?? [])
                var versions = zones[origin] ?? []
                // A version that does not follow the last one kept (a catalog built anew
                // meanwhile) starts the history again.
                if let last = versions.last, last.newSerial != oldSerial { versions = [] }
                versions.append(difference)
                var records = versions.reduce(0) { $0 + $1.recordCount }
                var dropped = 0
                while dropped < versions.count, versions.count - dropped > limits.versions || records > limits.records {
                    records -= versions[dropped].recordCount
                    dropped += 1
                }
                zones[origin] = Array(versions.dropFirst(dropped))
            }
        }
    }

    /// Forgets every version: the zones were built anew (a new configuration, a registry listed
    /// again), so no difference to the catalogs before is known.
    public func reset() {
        zones.withLock { $0 = [:] }
    }

    /// The versions of the zone at `origin` from `serial` to `current`, oldest first; nil when
    /// the history does not reach back to `serial` or forward to `current`.
    public func differences(of origin: DNSName, from serial: UInt32, to current: UInt32) -> [ZoneDifference]? {
        zones.withLock { zones in
            guard let versions = zones[origin.lowercased()], versions.last?.newSerial == current,
                let first = versions.firstIndex(where: { $0.oldSerial == serial })
            else { return nil }
            return Array(versions[first...])
        }
    }

    /// Versions and records held for the zone at `origin`, for the log and the tests.
    public func size(of origin: DNSName) -> (versions: Int, records: Int) {
        zones.withLock { zones in
            let versions = zones[origin.lowercased()] ?? []
            return (versions.count, versions.reduce(0) { $0 + $1.recordCount })
        }
    }
}

extension Catalog {
    /// The types a name below an apex can own in a transfer.
    private static let transferredTypes: [RecordType] = [.a, .aaaa, .srv, .cname, .txt, .ptr]

    /// The records a transfer lists at `name` (in lower case, not an apex): what the name owns,
    /// as `transferRecords` collects it.
    func transferRecords(at name: DNSName) -> [ResourceRecord] {
        var collector = ZoneExport.Collector()
        collector.collect(name, types: Self.transferredTypes) { answers(at: name, types: $0) }
        return collector.records
    }
}
