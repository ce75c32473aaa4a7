import DNSWire
import Testing

/// Deterministic mutation fuzzing: the decoder must never trap, and anything it accepts must be a
/// message the encoder can write and the decoder read back unchanged.
@Suite("Fuzz")
struct FuzzTests {
    static let seeds: [[UInt8]] = {
        var messages: [DNSMessage] = []
        messages.append(.query(id: 0x1234, name: name("web.shop.svc.cluster.local"), type: .a, edns: EDNS(udpPayloadSize: 1232, dnssecOK: true, options: [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])])))
        messages.append(
            DNSMessage(
                header: responseHeader(),
                questions: [DNSQuestion(name: name("web.shop.svc.cluster.local"), type: .any)],
                answers: Array(everyRecordKind.prefix(5)),
                authority: [everyRecordKind[5]],
                additional: Array(everyRecordKind.suffix(4)),
                edns: EDNS()))
        messages.append(CompressionTests.manyNamesResponse())
        return messages.map { DNSMessageEncoder.encode($0) } + [DNSMessageEncoder.encode(CompressionTests.manyNamesResponse(), maxSize: 300)]
    }()

    static func mutate(_ original: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = original
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<7, using: &random) {
            case 0, 1:  // flip one bit
                guard !bytes.isEmpty else { continue }
                bytes[Int.random(in: bytes.indices, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            case 2:  // truncate
                bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
            case 3:  // insert random bytes
                let inserted = (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                bytes.insert(contentsOf: inserted, at: Int.random(in: 0...bytes.count, using: &random))
            case 4:  // delete a run
                guard !bytes.isEmpty else { continue }
                let start = Int.random(in: bytes.indices, using: &random)
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...8, using: &random)))
            case 5:  // plant a compression pointer
                guard bytes.count >= 2 else { continue }
                let at = Int.random(in: 0..<(bytes.count - 1), using: &random)
                let target = UInt16.random(in: 0..<UInt16(bytes.count + 4), using: &random)
                bytes[at] = 0xc0 | UInt8(target >> 8 & 0x3f)
                bytes[at + 1] = UInt8(target & 0xff)
            default:  // overwrite a byte with an interesting value
                guard !bytes.isEmpty else { continue }
                bytes[Int.random(in: bytes.indices, using: &random)] = [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff].randomElement(using: &random)!
            }
        }
        return bytes
    }

    @Test("20,000 mutated messages never crash the decoder, and what it accepts re-encodes to itself")
    func mutationsNeverCrash() throws {
        var random = SplitMix64(seed: 0x00c1_0575_d0_5eed)
        var accepted = 0
        var errors: [DNSWireError.Code: Int] = [:]
        for round in 0..<20_000 {
            let input = Self.mutate(Self.seeds[round % Self.seeds.count], using: &random)
            let decoded: DNSMessage
            do {
                decoded = try DNSMessageDecoder.decode(bytes: input)
            } catch {
                errors[error.code, default: 0] += 1
                continue
            }
            accepted += 1
            let names = decoded.questions.map(\.name) + (decoded.answers + decoded.authority + decoded.additional).map(\.name)
            let namesValid = names.allSatisfy { name in
                name.wire.count <= DNSName.maxLength && name.labels.allSatisfy { $0.count <= DNSName.maxLabelLength }
            }
            let again = try DNSMessageDecoder.decode(bytes: DNSMessageEncoder.encode(decoded))
            // One #expect per failure, not per round: 20,000 passing expectations would dominate the run time.
            guard namesValid, again == decoded else {
                Issue.record("round \(round): \(input) decoded to \(decoded), which re-encodes to \(again)")
                break
            }
        }
        // The mutations reach both outcomes and the common failure paths (nameTooLong needs more than a few
        // mutations of short names, and has its own hand-built cases).
        #expect(accepted > 1000)
        let expected: Set<DNSWireError.Code> = [.truncatedHeader, .truncatedMessage, .badLabelType, .badPointer, .badRecord, .badEDNS, .trailingBytes]
        #expect(expected.isSubset(of: errors.keys), "\(errors)")
    }

    @Test("every prefix of a valid message is refused, never crashes")
    func everyPrefixIsRefused() {
        for seed in Self.seeds {
            for length in 0..<seed.count {
                #expect(throws: DNSWireError.self) { try DNSMessageDecoder.decode(bytes: Array(seed.prefix(length))) }
            }
        }
    }
}
