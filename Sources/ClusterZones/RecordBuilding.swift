import DNSWire
import ServiceRegistry

extension RecordData {
    /// A or AAAA data for an address.
    init(address: IPAddress) {
        switch address {
        case .v4(let value): self = .a(value)
        case .v6(let high, let low): self = .aaaa(high: high, low: low)
        }
    }
}

extension IPAddress {
    /// The record type that carries this address.
    var recordType: RecordType { isIPv4 ? .a : .aaaa }
}

/// SRV weights as CoreDNS gives them: the 100 points shared out evenly, at least 1 each.
func srvWeight(count: Int) -> UInt16 {
    guard count > 0 else { return 100 }
    return UInt16(max(1, 100 / count))
}
