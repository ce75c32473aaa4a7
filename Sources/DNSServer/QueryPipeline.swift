import Atomics
import ClusterZones
import DNSWire
import Forwarding
import NIOCore
import NIOPosix
import ServiceRegistry

/// A catalog, the generation number it was published as, and once compiled its answer table: one
/// pointer swap publishes all three.
final class PublishedCatalog: AtomicReference, Sendable {
    let catalog: Catalog
    let generation: UInt64
    let table: AnswerTable?

    init(_ catalog: Catalog, generation: UInt64, table: AnswerTable? = nil) {
        self.catalog = catalog
        self.generation = generation
        self.table = table
    }
}

/// What one thread keeps between queries: its response cache, a buffer to encode into, and the
/// counters of its queries.
///
/// Unchecked Sendable: created by, and only ever used on, one thread.
final class PipelineThread: @unchecked Sendable {
    let cache: ResponseCache?
    let tally: QueryTally?
    var scratch = ByteBufferAllocator().buffer(capacity: 4096)

    init(caching: Bool, tally: QueryTally?) {
        cache = caching ? ResponseCache() : nil
        self.tally = tally
    }
}

/// The per-query path. A query is read once, in place (`DNSQueryView`), and answered by the first
/// link of one chain that can: the zones' answer table, this thread's response cache, the general
/// path (catalog, then encoder). Every link assembles its response with
/// `DNSQueryView.writeResponse`, so which link answered never shows in the bytes. A query the view
/// does not take is decoded strictly and gets the right error.
///
/// A query reads one published catalog from start to end, so answers are always consistent, and
/// publishing a new one never blocks a query.
public final class QueryPipeline: DNSResponder, Sendable {
    private let current: ManagedAtomic<PublishedCatalog>
    /// Set by `stopCompiling()`.
    private let stopping = ManagedAtomic(false)
    private let threads = ThreadSpecificVariable<PipelineThread>()
    private let cachingEnabled: Bool
    /// Where every thread's queries are counted; nil counts nothing.
    public let metrics: QueryMetrics?
    /// Where names outside every zone go; nil answers them REFUSED.
    public let forwarder: Forwarder?
    /// Zone transfers: who may, IXFR's history, NOTIFY; nil refuses every transfer.
    public let transfers: ZoneTransfers?
    /// Answers are compiled only for a registry of at most this many names (`AnswerTable.estimatedNameCount`).
    public let compiledNamesLimit: Int

    /// The default `compiledNamesLimit`: a million names (about 300k Services, or 100k Services with
    /// their endpoints' PTRs) compile into about 210 MB. Beyond it a table costs more memory than the
    /// registry it answers for (at 100k Services and 1M endpoints: 2.15M names, 458 MB, compiled in
    /// 22 s), and the zones answer instead, with each thread's cache of recent answers.
    public static let defaultCompiledNamesLimit = 1_000_000

    /// - Parameters:
    ///   - cachingResponses: answer repeated questions from their encoded bytes (per thread,
    ///     emptied when a new catalog is published).
    ///   - compiledNamesLimit: compile the answer table only while the registry has at most this
    ///     many names; 0 never compiles it.
    ///   - metrics: counts each thread's queries for /metrics.
    ///   - forwarder: answers names outside every zone (and chases ExternalNames out of them);
    ///     without one they are REFUSED.
    ///   - autopath: search the client's path on NXDOMAIN (`AutopathAnswerer`).
    ///   - transfers: who may transfer zones over TCP, and what IXFR and NOTIFY need; nil refuses
    ///     every transfer and keeps no history.
    public init(
        catalog: Catalog, cachingResponses: Bool = true, compiledNamesLimit: Int = QueryPipeline.defaultCompiledNamesLimit,
        metrics: QueryMetrics? = nil, forwarder: Forwarder? = nil, autopath: Bool = false, transfers: ZoneTransfers? = nil
    ) {
        self.autopaths = autopath
        self.transfers = transfers
        self.current = ManagedAtomic(PublishedCatalog(catalog, generation: 1))
        self.forwarder = forwarder
        self.cachingEnabled = cachingResponses
        self.compiledNamesLimit = compiledNamesLimit
        self.metrics = metrics
    }

    /// Whether the answers of `catalog` are to be compiled: a table is let go once the registry
    /// outgrows the limit, and compiled again only once it is a tenth below it, so a registry
    /// around the limit does not compile its whole table on every change.
    private func compiles(_ catalog: Catalog, holdingTable: Bool) -> Bool {
        let names = AnswerTable.estimatedNameCount(of: catalog)
        return holdingTable ? names <= compiledNamesLimit : names * 10 <= compiledNamesLimit * 9
    }

    public var countsQueries: Bool { metrics != nil }

    /// `--autopath`: NXDOMAIN for a client's first search-path expansion is answered through its path.
    public let autopaths: Bool

    public func recordDeferred(_ query: QueryObservation) {
        metrics?.recordShared(query)
    }

    /// The catalog queries see now.
    public var catalog: Catalog { current.load(ordering: .acquiring).catalog }

    /// Makes `catalog` the one every later query sees, serving the static zones served now (they
    /// change only through `replaceStaticZones`). Its answers are not compiled yet: call
    /// `compileAnswers()` next, after whatever should not wait for that (the first answer).
    public func publish(_ catalog: Catalog) {
        while true {
            let published = current.load(ordering: .acquiring)
            let next = PublishedCatalog(catalog.servingStaticZones(of: published.catalog), generation: published.generation + 1)
            if current.compareExchange(expected: published, desired: next, ordering: .acquiringAndReleasing).exchanged {
                transfers?.rebuilt(catalog)
                return
            }
        }
    }

    /// Publishes the catalog of a registry update, made from the current one by patching what the
    /// update touched, with its answer table patched the same way (compiled whole if there was
    /// none yet). One swap publishes both: a query sees the old version or the new one.
    /// Updates must come from one thread at a time (a source's), in serial order.
    /// - Returns: the names compiled again and the shards of the table copied.
    @discardableResult
    public func apply(_ update: RegistryUpdate) -> (names: Int, shardsCopied: Int) {
        while true {
            let published = current.load(ordering: .acquiring)
            let (catalog, changedNames) = published.catalog.applying(update)
            let table: AnswerTable?
            if !compiles(catalog, holdingTable: published.table != nil) {
                table = nil
            } else {
                table = published.table.map { $0.patched(catalog: catalog, names: changedNames) } ?? compiledTable(of: catalog)
            }
            let next = PublishedCatalog(catalog, generation: published.generation + 1, table: table)
            if current.compareExchange(expected: published, desired: next, ordering: .acquiringAndReleasing).exchanged {
                transfers?.published(from: published.catalog, to: catalog, changedNames: changedNames.keys)
                return (changedNames.count, table?.shardsCopied ?? 0)
            }
            // Something else published meanwhile (a compile, a new configuration): patch that.
        }
    }

    /// Publishes the registry served now under a new zone configuration (SIGHUP with a changed
    /// --ttl, --domain or --pods): every name is built again, and its answers are compiled by
    /// `compileAnswers()` next, as at start. A source's update meanwhile is applied on top.
    public func reconfigure(_ configuration: ZoneConfiguration) {
        while true {
            let published = current.load(ordering: .acquiring)
            let old = published.catalog
            let catalog = Catalog(
                snapshot: old.snapshot, configuration: configuration, awaitingRegistry: old.isAwaitingRegistry, staticZones: old.staticZones)
            let next = PublishedCatalog(catalog, generation: published.generation + 1)
            if current.compareExchange(expected: published, desired: next, ordering: .acquiringAndReleasing).exchanged {
                transfers?.rebuilt(catalog)
                return
            }
        }
    }

    /// Serves `zones` as the static zones from now on (a zone file was edited, added or removed).
    /// The registry's zones and their compiled answers stay as they are (the table holds no static
    /// zone's name); the new generation empties every thread's response cache.
    public func replaceStaticZones(_ zones: [StaticZone]) {
        while true {
            let published = current.load(ordering: .acquiring)
            let next = PublishedCatalog(
                published.catalog.replacingStaticZones(zones), generation: published.generation + 1, table: published.table)
            if current.compareExchange(expected: published, desired: next, ordering: .acquiringAndReleasing).exchanged {
                transfers?.reloaded(from: published.catalog.staticZones, to: zones)
                return
            }
        }
    }

    /// Compiles the answer table of the current catalog and publishes it with that catalog,
    /// unless a catalog of other registry zones was published meanwhile (one that only swapped
    /// the static zones takes the table), or the registry has more names than `compiledNamesLimit`.
    /// - Returns: the names compiled and the bytes they take; nil when not compiled for the
    ///   limit, or for `stopCompiling()`.
    @discardableResult
    public func compileAnswers() -> (names: Int, bytes: Int)? {
        let published = current.load(ordering: .acquiring)
        guard compiles(published.catalog, holdingTable: false) else { return nil }
        guard let table = compiledTable(of: published.catalog) else { return nil }
        var expected = published
        while true {
            let compiled = PublishedCatalog(expected.catalog, generation: expected.generation, table: table)
            if current.compareExchange(expected: expected, desired: compiled, ordering: .acquiringAndReleasing).exchanged { break }
            let latest = current.load(ordering: .acquiring)
            guard latest.table == nil, latest.catalog.hasRegistryZones(of: published.catalog) else { break }
            expected = latest
        }
        return (table.nameCount, table.byteCount)
    }

    /// Every answer of `catalog` compiled, unless `stopCompiling()` comes first.
    private func compiledTable(of catalog: Catalog) -> AnswerTable? {
        AnswerTable(catalog: catalog, stopping: { self.stopping.load(ordering: .relaxed) })
    }

    /// From now on no answer table is compiled, and one being compiled is abandoned: the server
    /// is shutting down, and the zones answer until it stops.
    public func stopCompiling() {
        stopping.store(true, ordering: .relaxed)
    }

    /// Whether `stopCompiling()` was called.
    public var stoppedCompiling: Bool { stopping.load(ordering: .relaxed) }

    /// The response to an AXFR or IXFR over TCP from `client`: REFUSED unless `transfers` permits
    /// it. Lists the zone, so a transport calls it away from its event loop.
    public func transferResponse(to query: ByteBuffer, from client: IPAddress?) -> TransferMessages? {
        guard let header = try? DNSMessageDecoder.decodeHeader(query), !header.isResponse else { return nil }
        guard let message = try? DNSMessageDecoder.decode(query) else {
            return TransferMessages(error: .formatError, to: header, question: nil)
        }
        guard let transfers else {
            return TransferMessages(error: .refused, to: header, question: message.questions.first)
        }
        return transfers.response(to: message, from: client, catalog: catalog)
    }

    public func batch() -> any DNSBatchResponder {
        let published = current.load(ordering: .acquiring)
        let thread = thread()
        thread.cache?.adopt(generation: published.generation)
        return PinnedPipeline(published: published, thread: thread, forwarder: forwarder, autopaths: autopaths)
    }

    private func thread() -> PipelineThread {
        if let existing = threads.currentValue { return existing }
        let thread = PipelineThread(caching: cachingEnabled, tally: metrics?.makeTally())
        threads.currentValue = thread
        return thread
    }
}

/// The chain for one published catalog on one thread. A struct of three references, so handing
/// it out per batch allocates nothing.
struct PinnedPipeline: DNSBatchResponder {
    let published: PublishedCatalog
    let thread: PipelineThread
    let forwarder: Forwarder?
    let autopaths: Bool

    func read(_ query: UnsafeRawBufferPointer, over transport: DNSTransport) -> ReadQuery {
        guard let view = DNSQueryView(query, transport: transport) else { return ReadQuery(view: nil) }
        return ReadQuery(view: view, prefetchToken: published.table?.prefetchSlot(nameHash: view.nameHash) ?? 0)
    }

    func record(_ query: QueryObservation) {
        thread.tally?.record(query)
    }

    func prefetch(_ read: ReadQuery) {
        guard read.prefetchToken != 0 else { return }
        published.table?.prefetchEntry(token: read.prefetchToken)
    }

    func respond(to query: UnsafeRawBufferPointer, _ read: ReadQuery, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> DNSResponse? {
        respond(to: query, read, over: transport, into: output, later: { nil })
    }

    func respond(
        to query: UnsafeRawBufferPointer, _ read: ReadQuery, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer,
        later: () -> DeferredReply?
    ) -> DNSResponse? {
        guard let view = read.view else {
            return StrictAnswerer(catalog: published.catalog, thread: thread).respond(to: query, over: transport, into: output)
        }
        if let table = published.table, let length = table.answer(view, query: query, into: output) {
            return DNSResponse(length: length, path: .answerTable)
        }
        if let cache = thread.cache, let length = cache.answer(view, query: query, into: output) {
            return DNSResponse(length: length, path: .cache)
        }
        let general = GeneralAnswerer(catalog: published.catalog, thread: thread)
        guard let forwarder else {
            return general.answer(view, query: query, into: output).map { DNSResponse(length: $0, path: .general) }
        }
        // Forwarding on: what the zones cannot answer alone goes upstream (never into this
        // thread's cache, whose answers do not age); a transport that cannot defer gets REFUSED.
        let forwarding = ForwardingAnswerer(forwarder: forwarder, catalog: published.catalog)
        let question = view.question(in: query)
        let zones: Answer?
        let upstream: ForwardingAnswerer.Upstream
        if forwarding.takesWhole(question) {
            zones = nil
            upstream = ForwardingAnswerer.Upstream(question: question, ours: nil)
        } else {
            let answer = published.catalog.answer(question)
            guard let chased = forwarding.chase(answer, of: question) else {
                return general.answer(answer, to: question, view, query: query, into: output).map { DNSResponse(length: $0, path: .general) }
            }
            zones = answer
            upstream = chased
        }
        if let response = forwarding.answer(upstream, to: question, view, query: query, over: transport, scratch: &thread.scratch, into: output, later: later) {
            return response
        }
        return view.write(zones ?? .refused, to: question, query: query, scratch: &thread.scratch, into: output).map { DNSResponse(length: $0, path: .general) }
    }
}
