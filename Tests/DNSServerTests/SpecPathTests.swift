import ClusterZones
import DNSServer
import DNSWire
import SpecSupport
import Testing

/// The spec table through the pipeline on every answer path (answer table, cache, general path),
/// in the row's spelling and another, with and without EDNS: each path must answer what the row
/// says, byte for byte as the others do, and the test checks which path answered, so a table that
/// compiled nothing cannot pass for one that answers.
@Suite struct SpecPathTests {
    /// The three pipelines of one pod mode, each leaving to the general path only what it must.
    struct Pipelines {
        let general: QueryPipeline
        let cached: QueryPipeline
        let compiled: QueryPipeline
        let held: Set<DNSName>

        init(podMode: PodMode) {
            let catalog = SpecFixture.catalog(podMode: podMode)
            general = QueryPipeline(catalog: catalog, cachingResponses: false)
            cached = QueryPipeline(catalog: catalog, cachingResponses: true)
            compiled = QueryPipeline(catalog: catalog, cachingResponses: false)
            compiled.compileAnswers()
            held = SpecFixture.heldNames(catalog)
        }
    }

    static let pipelines = Dictionary(uniqueKeysWithValues: PodMode.allCases.map { ($0, Pipelines(podMode: $0)) })

    /// Whether the answer table must hold this row's answer: a name the zones list as held, a type
    /// that is not meta, and an answer that is not a CNAME chain (chased per question type).
    static func isCompiled(_ row: SpecCase, held: Set<DNSName>) throws -> Bool {
        let name = try DNSName(row.name).lowercased()
        return held.contains(name) && !row.type.isMeta && !row.answers.contains { $0.contains(" CNAME ") }
    }

    @Test(arguments: specCases)
    func everyPathAnswersAsTheSpecSays(_ row: SpecCase) throws {
        let pipelines = try #require(Self.pipelines[row.podMode])
        let compiledRow = try Self.isCompiled(row, held: pipelines.held)
        for spelling in [row.name, SpecFixture.otherSpelling(of: row.name)] {
            for edns in [nil, EDNS(udpPayloadSize: 1232)] {
                for transport in [DNSTransport.udp, .tcp] {
                    let context = "\(spelling) \(row.type) edns=\(edns != nil) \(transport)"
                    let query = try queryBytes(spelling, row.type, id: 0x5151, edns: edns)
                    let general = try #require(pipelines.general.answer(query, over: transport), "\(context)")
                    #expect(general.path == .general, "\(context)")
                    let problems = row.mismatches(in: SpecResponse(try DNSMessageDecoder.decode(bytes: general.bytes)), askedAs: spelling)
                    #expect(problems.isEmpty, "\(context): \(problems)")

                    let table = try #require(pipelines.compiled.answer(query, over: transport), "\(context)")
                    #expect(table.path == (compiledRow ? .answerTable : .general), "\(context)")
                    #expect(table.bytes == general.bytes, "\(context): the answer table differs from the general path")

                    // Asked twice under other IDs: the second comes from the cache, and differs
                    // from the general path's only in the ID.
                    var again = query
                    again[0] = 0x77
                    _ = pipelines.cached.answer(query, over: transport)
                    let cached = try #require(pipelines.cached.answer(again, over: transport), "\(context)")
                    #expect(cached.path == .cache, "\(context)")
                    #expect(Array(cached.bytes.dropFirst(2)) == Array(general.bytes.dropFirst(2)), "\(context): the cache differs")
                    #expect(cached.bytes.first == 0x77)
                }
            }
        }
    }

    /// The rows the table must answer are a real share of the table, so the test above cannot pass
    /// with a table that holds nothing.
    @Test func mostPositiveRowsAreAnsweredFromTheTable() throws {
        var compiled = 0
        for row in specCases {
            let pipelines = try #require(Self.pipelines[row.podMode])
            guard try Self.isCompiled(row, held: pipelines.held) else { continue }
            compiled += 1
            let query = try queryBytes(row.name, row.type)
            #expect(pipelines.compiled.answer(query)?.path == .answerTable, "\(row)")
        }
        #expect(compiled >= 30)
    }
}

/// The spec table over real sockets: every row through each UDP engine and TCP, against a
/// listener serving the compiled pipeline, in two spellings.
@Suite(.serialized) struct SpecTransportTests {
    @Test(arguments: UDPEngine.allCases)
    func everyRowIsAnsweredOverUDPAndTCP(_ engine: UDPEngine) async throws {
        for podMode in PodMode.allCases {
            let pipeline = QueryPipeline(catalog: SpecFixture.catalog(podMode: podMode))
            pipeline.compileAnswers()
            try await TestListener.with(TestListener.configuration(udpEngine: engine), responder: pipeline) { listener in
                let udp = try TestSocket.udp(for: listener.localAddress)
                let tcp = try TestSocket.tcp(connectingTo: listener.localAddress)
                var id: UInt16 = 0
                for row in specCases where row.podMode == podMode {
                    for spelling in [row.name, SpecFixture.otherSpelling(of: row.name)] {
                        id &+= 1
                        let query = try queryBytes(spelling, row.type, id: id, edns: id % 2 == 0 ? EDNS(udpPayloadSize: 1232) : nil)
                        try udp.send(query, to: listener.localAddress)
                        guard case .bytes(let overUDP) = udp.receive() else {
                            Issue.record("\(row) \(spelling): no UDP answer")
                            continue
                        }
                        try tcp.sendAll(TestMessages.framed(query))
                        guard case .bytes(let overTCP) = tcp.receiveFrame() else {
                            Issue.record("\(row) \(spelling): no TCP answer")
                            continue
                        }
                        for (transport, bytes) in [("UDP", overUDP), ("TCP", overTCP)] {
                            let message = try DNSMessageDecoder.decode(bytes: bytes)
                            #expect(message.header.id == id)
                            let problems = row.mismatches(in: SpecResponse(message), askedAs: spelling)
                            #expect(problems.isEmpty, "\(transport) \(engine) \(spelling): \(problems)")
                        }
                    }
                }
            }
        }
    }
}
