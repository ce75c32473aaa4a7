@testable import ServiceRegistry
import SpecSupport
import Testing

/// The manifest source's index of which file defines each key keeps its digests in a sorted array
/// and merges changes in by the thousand: through many merges, with keys added, moved to another
/// file and removed, it must answer as a dictionary does.
@Suite struct DigestNumbersTests {
    @Test(arguments: [1, 2] as [UInt64])
    func answersAsADictionaryThroughManyMerges(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var table = DigestNumbers()
        var model: [KeyDigest: UInt32] = [:]
        func digest(_ number: UInt64) -> KeyDigest {
            KeyDigest(RegistryObjectKey(kind: "Service", namespace: "team-\(number % 7)", name: "service-\(number)"))
        }
        // 20k keys written, then 30k random changes over 25k: merged dozens of times.
        for number in 0..<20_000 as Range<UInt64> {
            table[digest(number)] = UInt32(number % 5)
            model[digest(number)] = UInt32(number % 5)
        }
        for step in 0..<30_000 {
            let key = digest(random.next() % 25_000)
            let number: UInt32? = random.next() % 3 == 0 ? nil : UInt32(random.next() % 9)
            table[key] = number
            model[key] = number
            if step % 5_000 == 0 {
                for probe in 0..<25_000 as Range<UInt64> where probe % 7 == 0 {
                    #expect(table[digest(probe)] == model[digest(probe)], "step \(step), key \(probe)")
                }
            }
        }
        for probe in 0..<25_000 as Range<UInt64> {
            #expect(table[digest(probe)] == model[digest(probe)], "key \(probe)")
        }
    }

    /// The initial load merges each file's keys in at once: a key an earlier file holds keeps its
    /// number and is handed back, the others are added, and single changes still go on after it.
    @Test func aFileOfKeysMergedAtOnceKeepsTheKeysHeldAndAddsTheRest() {
        var random = SplitMix(seed: 3)
        var table = DigestNumbers()
        var model: [KeyDigest: UInt32] = [:]
        func digest(_ number: UInt64) -> KeyDigest {
            KeyDigest(RegistryObjectKey(kind: "Pod", namespace: "team-\(number % 5)", name: "pod-\(number)"))
        }
        for file in 0..<6 as Range<UInt32> {
            let digests = Set((0..<3_000).map { _ in digest(random.next() % 12_000) }).sorted()
            // A change waiting in the table's pending ones when the file comes.
            let single = digest(20_000 + UInt64(file))
            table[single] = 99
            model[single] = 99
            let held = table.insertUnlessHeld(digests.map { ($0, file) })
            #expect(held == digests.filter { model[$0] != nil })
            for digest in digests where model[digest] == nil { model[digest] = file }
        }
        for probe in 0..<12_000 as Range<UInt64> {
            #expect(table[digest(probe)] == model[digest(probe)], "key \(probe)")
        }
        for file in 0..<6 as Range<UInt64> { #expect(table[digest(20_000 + file)] == 99) }
    }
}
