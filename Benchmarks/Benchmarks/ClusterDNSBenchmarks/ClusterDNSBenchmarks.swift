import Benchmark
import ClusterZones
import DNSServer
import DNSWire
import NIOCore
import ServiceRegistry

// Each sample runs 1000 queries (scalingFactor .kilo) over 1000 different names, and the metrics
// marked * are reported per query: "Malloc (total)" is allocations per query. The snapshot build
// is one build per sample. The catalog is the 50k-service cluster of Fixture.swift.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 10_000
    )

    // decode: a query packet as dnsperf sends it.
    for (label, edns) in [("A query", false), ("A query with EDNS", true)] {
        let packets = Large.queryPackets(.clusterIPA, edns: edns)
        Benchmark("decode/\(label)") { benchmark in
            for index in benchmark.scaledIterations {
                blackHole(try? DNSMessageDecoder.decode(packets[index % packets.count]))
            }
        }
    }

    // lookup: Catalog.answer, the zone's whole decision for one question.
    for kind in QueryKind.allCases {
        let questions = Large.questions(kind)
        let catalog = Large.catalog
        Benchmark("lookup/\(kind.rawValue)") { benchmark in
            for index in benchmark.scaledIterations {
                blackHole(catalog.answer(questions[index % questions.count]))
            }
        }
    }

    // encode: the response message into a reused buffer, with name compression.
    for kind in [QueryKind.clusterIPA, .headlessA, .srv, .searchPathNXDomain] {
        let questions = Large.questions(kind, count: 64)
        let responses = questions.enumerated().map { index, question in
            let answer = Large.catalog.answer(question)
            var header = DNSHeader(id: UInt16(index))
            header.isResponse = true
            header.isAuthoritative = true
            header.responseCode = answer.responseCode
            return DNSMessage(header: header, questions: [question], answers: answer.answers,
                              authority: answer.authority, additional: answer.additional)
        }
        Benchmark("encode/\(kind.rawValue)") { benchmark in
            var buffer = ByteBufferAllocator().buffer(capacity: 1232)
            for index in benchmark.scaledIterations {
                buffer.clear()
                blackHole(DNSMessageEncoder.encode(responses[index % responses.count], into: &buffer, maxSize: 1232))
            }
        }
    }

    // query path: QueryPipeline.respond into a NIO buffer, as the NIO transports get their responses.
    let allocator = ByteBufferAllocator()
    for kind in [QueryKind.clusterIPA, .headlessA, .srv, .aaaaNoData, .searchPathNXDomain, .ptr] {
        let packets = Large.queryPackets(kind)
        let pipeline = Large.pipeline
        Benchmark("query path/\(kind.rawValue)") { benchmark in
            for index in benchmark.scaledIterations {
                blackHole(pipeline.respond(to: packets[index % packets.count], over: .udp, allocator: allocator))
            }
        }
    }
    let mixed = Large.mixedPackets()
    Benchmark("query path/load mix") { benchmark in
        let pipeline = Large.pipeline
        for index in benchmark.scaledIterations {
            blackHole(pipeline.respond(to: mixed[index % mixed.count], over: .udp, allocator: allocator))
        }
    }

    // The same mix over 32k different names on the uncompiled pipeline: half the 64k-slot response
    // cache, so direct-mapped collisions make some of these full lookups.
    let wide = Large.mixedPackets(count: 32768)
    let cursor = Cursor()
    Benchmark("query path/load mix, 32k names (response cache misses)") { benchmark in
        let pipeline = Large.pipeline
        for _ in benchmark.scaledIterations {
            blackHole(pipeline.respond(to: wide[cursor.next(wide.count)], over: .udp, allocator: allocator))
        }
    }

    // UDP batch path: a DNSBatchResponder from QueryPipeline.batch(), raw bytes in and out, as the
    // UDP batch engine calls it (these kinds are all answered from the answer table).
    for kind in [QueryKind.clusterIPA, .headlessA, .srv, .aaaaNoData, .ptr] {
        let packets = Large.rawPackets(Large.queryPackets(kind))
        Benchmark("udp batch path/\(kind.rawValue)") { benchmark in
            let batch = Large.compiledPipeline.batch()
            var output = [UInt8](repeating: 0, count: 1232)
            for index in benchmark.scaledIterations {
                let packet = packets[index % packets.count]
                blackHole(packet.withUnsafeBytes { query in output.withUnsafeMutableBytes { batch.respond(to: query, over: .udp, into: $0) } })
            }
        }
    }
    // The load mix over 32k names: NXDOMAIN and CNAME names come from the response cache, the
    // rest from the answer table; one chain answers every query.
    let wideRaw = Large.rawPackets(wide)
    let rawCursor = Cursor()
    Benchmark("udp batch path/load mix, 32k names") { benchmark in
        let batch = Large.compiledPipeline.batch()
        var output = [UInt8](repeating: 0, count: 1232)
        // Warm this thread's response cache, as a running server's is, before measuring.
        for packet in wideRaw { blackHole(packet.withUnsafeBytes { query in output.withUnsafeMutableBytes { batch.respond(to: query, over: .udp, into: $0) } }) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let packet = wideRaw[rawCursor.next(wideRaw.count)]
            blackHole(packet.withUnsafeBytes { query in output.withUnsafeMutableBytes { batch.respond(to: query, over: .udp, into: $0) } })
        }
    }

    // The same with --http-listen's counting: each query recorded into the thread's tally with the
    // clock read the batch engine does (one a query). Must stay at 0 allocations a query.
    let countedRaw = Large.rawPackets(wide)
    let countedCursor = Cursor()
    Benchmark("udp batch path/load mix, 32k names, counted for /metrics") { benchmark in
        let batch = Large.countedPipeline.batch()
        var output = [UInt8](repeating: 0, count: 1232)
        for packet in countedRaw { blackHole(packet.withUnsafeBytes { query in output.withUnsafeMutableBytes { batch.respond(to: query, over: .udp, into: $0) } }) }
        benchmark.startMeasurement()
        var answeredAt = monotonicNanoseconds()
        for _ in benchmark.scaledIterations {
            let packet = countedRaw[countedCursor.next(countedRaw.count)]
            packet.withUnsafeBytes { query in
                output.withUnsafeMutableBytes { output in
                    let read = batch.read(query, over: .udp)
                    guard let response = batch.respond(to: query, read, over: .udp, into: output) else { return }
                    let finishedAt = monotonicNanoseconds()
                    batch.record(QueryObservation(
                        transport: .udp, isIPv6: false, questionType: read.view?.type, requestBytes: query.count,
                        responseBytes: response.length, responseCode: output[3] & 0x0F, path: response.path,
                        nanoseconds: finishedAt &- answeredAt))
                    answeredAt = finishedAt
                }
            }
        }
        blackHole(Large.countedPipeline.metrics?.queryCount)
    }

    // compiled answers: what publishing a catalog costs after the swap, for 50k services.
    Benchmark(
        "compile answers/50k services",
        configuration: .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
                             warmupIterations: 1, scalingFactor: .one, maxDuration: .seconds(20), maxIterations: 5)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            let pipeline = QueryPipeline(catalog: Large.catalog)
            blackHole(pipeline.compileAnswers())
        }
    }

    // snapshot build: what a registry change costs before the atomic swap, for 50k services.
    Benchmark(
        "snapshot build/50k services (RegistrySnapshot + Catalog)",
        configuration: .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
                             warmupIterations: 1, scalingFactor: .one, maxDuration: .seconds(20), maxIterations: 5)
    ) { benchmark in
        let fixture = Large.fixture
        for _ in benchmark.scaledIterations {
            let snapshot = fixture.snapshot(serial: 2)
            blackHole(Catalog(snapshot: snapshot, configuration: ClusterFixture.configuration()))
        }
    }
}
