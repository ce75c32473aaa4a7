@testable import ClusterZones
import DNSWire
import ServiceRegistry
import SpecSupport
import Testing

/// A catalog built whole lays its reverse index out in one pass, sorted (`ReverseIndex.Builder`); a
/// patched catalog adds and removes address by address. Both ways must hold the same targets in the same order and the same
/// partial names, or a patched catalog would answer PTR queries otherwise than a fresh one.
@Suite struct ReverseIndexBuildTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func anIndexBuiltWholeHoldsWhatOneBuiltAddressByAddressHolds(seed: UInt64) throws {
        var random = SplitMix(seed: seed)
        let domain = try DNSName("cluster.local")
        let holders = (0..<300).map { ReverseIndex.ServiceKeyHolder(ServiceKey(ObjectKey(namespace: "ns-\($0 % 7)", name: "svc-\($0)"))) }
        // Eight /24s in two /16s, some two contributions an address: addresses repeat, and taking
        // a random half out removes some. A tenth IPv6.
        var contributions: [(IPAddress, ReverseIndex.PTRTarget)] = []
        for _ in 0..<5_000 {
            let address: IPAddress = random.next() % 10 == 0
                ? .v6(high: 0xfd00 << 48 | random.next() % 3 << 20, low: random.next() % 200)
                : .v4(0x0A60_0000 | UInt32(random.next() % 2) << 16 | UInt32(random.next() % 4) << 8 | UInt32(random.next() % 250))
            let label: String? = random.next() % 3 == 0 ? nil : "ep-\(random.next() % 5)"
            contributions.append((address, ReverseIndex.PTRTarget(service: holders[Int(random.next() % 300)], label: label)))
        }
        var incremental = ReverseIndex(domain: domain)
        incremental.add(contributions)
        // Handed over in pieces, as the catalog hands over each Service's.
        var builder = ReverseIndex.Builder(domain: domain)
        var start = 0
        while start < contributions.count {
            let end = min(contributions.count, start + 1 + Int(random.next() % 6))
            builder.add(Array(contributions[start..<end]))
            start = end
        }
        var whole = builder.finish()
        expectSame(whole, incremental, addresses: contributions.map(\.0))

        // The counts under each prefix: taking out every address of 10.97/16 and of 10.96.1/24
        // (and of one IPv6 block) and a random half of the rest must leave the same names in both.
        func inGoneBlock(_ address: IPAddress) -> Bool {
            switch address {
            case .v4(let bits): return bits >> 16 & 0xFF == 97 || bits >> 8 & 0xFFFF == 0x6001
            case .v6(let high, _): return high >> 20 & 0xF == 1
            }
        }
        let removed = contributions.filter { inGoneBlock($0.0) || random.next() % 2 == 0 }
        whole.remove(removed)
        incremental.remove(removed)
        expectSame(whole, incremental, addresses: contributions.map(\.0))
        #expect(!incremental.hasPrefix([10, 97], ipv4: true) && !incremental.hasPrefix([10, 96, 1], ipv4: true))
        #expect(incremental.hasPrefix([10, 96, 2], ipv4: true))
        #expect(whole.targets.count < Set(contributions.map(\.0)).count, "some addresses went")
    }

    private func expectSame(_ whole: ReverseIndex, _ incremental: ReverseIndex, addresses: [IPAddress]) {
        #expect(whole.targets.count == incremental.targets.count)
        func listed(_ targets: ReverseIndex.PTRTargets?) -> [String] {
            guard let targets else { return [] }
            return ([targets.first] + targets.rest).map { "\($0.service.namespace)/\($0.service.name)/\($0.label ?? "-")" }
        }
        var prefixes = Set<[UInt8]>()
        for address in Set(addresses) {
            #expect(listed(whole.targets[address]) == listed(incremental.targets[address]), "\(address)")
            #expect(whole.names(at: address) == incremental.names(at: address))
            switch address {
            case .v4(let bits):
                let bytes = (0..<4).map { UInt8(truncatingIfNeeded: bits >> (24 - 8 * $0)) }
                for length in 1...3 { prefixes.insert(Array(bytes[..<length])) }
                // A sibling of the last byte but one, often not held.
                prefixes.insert([bytes[0], bytes[1], bytes[2] &+ 9])
            case .v6(let high, let low):
                let nibbles = (0..<32).map { UInt8(truncatingIfNeeded: ($0 < 16 ? high >> (60 - 4 * $0) : low >> (60 - 4 * ($0 - 16))) & 0xF) }
                for length in 1...31 { prefixes.insert(Array(nibbles[..<length])) }
            }
        }
        var held = 0
        for parts in prefixes {
            let ipv4 = parts.count <= 3 && parts.first == 10
            #expect(whole.hasPrefix(parts, ipv4: ipv4) == incremental.hasPrefix(parts, ipv4: ipv4), "\(parts)")
            if incremental.hasPrefix(parts, ipv4: ipv4) { held += 1 }
        }
        #expect(held > 40, "the prefixes asked are mostly held")
    }
}
