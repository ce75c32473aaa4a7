@testable import ClusterZones
import SpecSupport
import Testing

/// A shard patched many times over (entries marked dead in place, new ones appended, the shard
/// rebuilt whole when dead entries pile up) must find exactly the entries a model holds.
@Suite struct AnswerShardPatchTests {
    /// The one suffix entries leave out: `example.`.
    static let suffixes = NameSuffixes(wires: [[7] + Array("example".utf8) + [0]])

    /// An entry as the table writes it: the kept name's length, suffix 1 (`example.`), the name
    /// without it, one answer of type A with `body`.
    static func entry(_ name: [UInt8], body: [UInt8]) -> [UInt8] {
        let kept = Array(name.dropLast(9))
        var bytes = [UInt8(kept.count), 1] + kept + [1]
        bytes += [0, 1, 0x84, 0, 0, 1, 0, 0, 0, 0, UInt8(body.count >> 8), UInt8(body.count & 0xff)]
        return bytes + body
    }

    static func hash(_ wire: [UInt8]) -> UInt64 {
        AnswerTable.hash(wire)
    }

    /// The entry the shard holds for `wire`, as bytes, or nil.
    static func lookUp(_ wire: [UInt8], in shard: AnswerShard) -> [UInt8]? {
        let entries = shard.entries
        let found = wire.withUnsafeBytes { name in
            NameSlots.find(hash(wire), in: shard.slots) { entry in
                AnswerShard.entry(at: entry, in: entries, isFor: name, suffixes: suffixes)
            }
        }
        return found.map { Array(entries[$0..<($0 + AnswerShard.entryLength(at: $0, in: entries))]) }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func patchesFindExactlyWhatTheModelHolds(seed: UInt64) {
        var random = SplitMix(seed: seed)
        func name(_ number: UInt64) -> [UInt8] {
            let label = Array("n\(number)".utf8)
            return [UInt8(label.count)] + label + [7] + Array("example".utf8) + [0]
        }
        var model: [[UInt8]: [UInt8]] = [:]
        var builder = AnswerShard.Builder()
        for number in 0..<200 as Range<UInt64> {
            let wire = name(number)
            let entry = Self.entry(wire, body: [UInt8](repeating: UInt8(number & 0xff), count: 4))
            builder.append(hash: Self.hash(wire), entry: entry)
            model[wire] = entry
        }
        var shard = AnswerShard(builder)
        var patchedInPlace = 0
        var rebuilt = 0
        for step in 0..<300 {
            var changes: [[UInt8]: (hash: UInt64, entry: [UInt8]?)] = [:]
            for _ in 0..<(1 + random.next() % 6) {
                let wire = name(random.next() % 260)
                let removed = random.next() % 4 == 0
                let body = [UInt8](repeating: UInt8(step & 0xff), count: Int(random.next() % 40))
                changes[wire] = (Self.hash(wire), removed ? nil : Self.entry(wire, body: body))
            }
            let deadBefore = shard.deadSlots
            shard = shard.replacing(changes, suffixes: Self.suffixes)
            for (wire, change) in changes { model[wire] = change.entry }
            if shard.deadSlots > deadBefore { patchedInPlace += 1 }
            if shard.deadSlots == 0, deadBefore > 0 { rebuilt += 1 }
            #expect(shard.count == model.count, "step \(step)")
            for number in 0..<260 as Range<UInt64> {
                let wire = name(number)
                #expect(Self.lookUp(wire, in: shard) == model[wire], "step \(step): n\(number)")
            }
        }
        // Both ways of patching were taken: in place, and whole once dead entries piled up.
        #expect(patchedInPlace > 100)
        #expect(rebuilt > 0)
    }
}
