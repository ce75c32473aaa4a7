@testable import ServiceRegistry
import SpecSupport
import Testing

/// The Pods and the address tables keep their entries in sorted runs that split when full and
/// are copied when shared: through inserts, replacements and removals that split and empty
/// hundreds of runs, the table must answer as a dictionary does, list its keys in order, and leave
/// a copy taken on the way exactly as it was.
@Suite struct SortedRunsTests {
    @Test(arguments: [1, 2] as [UInt64])
    func answersAsADictionaryAndKeepsEarlierCopiesIntact(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var table = SortedRuns<UInt32, [UInt32]>()
        var model: [UInt32: [UInt32]] = [:]
        var copies: [(SortedRuns<UInt32, [UInt32]>, [UInt32: [UInt32]])] = []
        // Ascending keys first (each run is split at its end), then random changes over a wider range.
        for key in 0..<3_000 as Range<UInt32> {
            table[key * 3] = [key]
            model[key * 3] = [key]
        }
        for step in 0..<40_000 {
            let key = UInt32(random.next() % 12_000)
            switch random.next() % 4 {
            case 0:
                table[key] = nil
                model[key] = nil
            case 1:
                // Changed where it lies, through the one-search update.
                let existed = table.updateValue(forKey: key) { held -> Bool in
                    defer { held = (held ?? []) + [UInt32(step)] }
                    return held != nil
                }
                #expect(existed == (model[key] != nil))
                model[key, default: []].append(UInt32(step))
            default:
                table[key] = [UInt32(step)]
                model[key] = [UInt32(step)]
            }
            if step % 10_000 == 0 { copies.append((table, model)) }
        }
        #expect(table.count == model.count)
        #expect(table.keys == model.keys.sorted())
        for key in 0..<12_000 as Range<UInt32> {
            #expect(table[key] == model[key], "key \(key)")
        }
        for (copy, expected) in copies {
            #expect(copy.count == expected.count)
            var listed: [UInt32: [UInt32]] = [:]
            copy.forEach { listed[$0.key] = $0.value }
            #expect(listed == expected)
        }
    }

    @Test func emptiedTableHoldsNothingAndFillsAgain() {
        var table = SortedRuns<String, Int>()
        for number in 0..<500 { table["pod-\(number)"] = number }
        for number in 0..<500 { table["pod-\(number)"] = nil }
        #expect(table.isEmpty)
        #expect(table["pod-7"] == nil)
        table["pod-7"] = 7
        #expect(table.keys == ["pod-7"])
        #expect(table["pod-7"] == 7)
    }

    /// Enough entries for many groups of runs: groups split as runs are added, and a range taken
    /// out empties whole groups; lookups, the key order and a copy taken before all hold.
    @Test func groupsSplitAndEmptyAsADictionaryWould() {
        var table = SortedRuns<UInt32, UInt32>()
        for key in 0..<200_000 as Range<UInt32> { table[key * 2] = key }
        #expect(table.groups.count > 10, "\(table.groups.count) groups")
        let copy = table
        for key in 50_000..<150_000 as Range<UInt32> { table[key * 2] = nil }
        for key in 0..<1_000 as Range<UInt32> { table[100_001 + key * 2] = key }
        var expected = (0..<50_000).map { UInt32($0) * 2 } + (0..<1_000).map { 100_001 + UInt32($0) * 2 }
        expected += (150_000..<200_000).map { UInt32($0) * 2 }
        expected.sort()
        #expect(table.keys == expected)
        #expect(table.count == expected.count)
        #expect(table[100_001] == 0 && table[99_998] == 49_999 && table[100_000] == nil && table[300_000] == 150_000)
        #expect(copy.count == 200_000)
        #expect(copy.keys == (0..<200_000).map { UInt32($0) * 2 })
        #expect(copy[200_000] == 100_000)
    }
}
