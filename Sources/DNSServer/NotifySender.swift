import DNSWire
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Tells secondaries that a zone has a new serial (NOTIFY, RFC 1996): a UDP message per zone and
/// secondary, sent again a few times until the secondary replies.
///
/// Bursts are coalesced: at most one NOTIFY is in flight per zone and secondary, and a serial
/// published meanwhile waits for it and replaces any older one waiting, so a secondary hears of
/// the latest serial without being asked to transfer faster than it can.
public final class NotifySender: Sendable {
    /// The secondaries.
    public let targets: [SocketAddress]
    /// Waits for a reply before each new try: the RFC's 60 s retry is for unreachable hosts, a
    /// secondary on the cluster network answers in a millisecond.
    public let timeouts: [TimeAmount]
    private let channels: [any Channel]
    private let state: Mutex<State>
    private let logger: Logger

    /// A zone at one secondary.
    private struct Key: Hashable {
        var zone: DNSName
        var target: Int
    }

    private struct State {
        /// The newest SOA not yet sent, by zone and secondary.
        var pending: [Key: ResourceRecord] = [:]
        /// Zones and secondaries with a NOTIFY being sent (a task running for them).
        var sending: Set<Key> = []
        /// The NOTIFYs awaiting their reply, by ID.
        var awaiting: [UInt16: EventLoopPromise<ResponseCode>] = [:]
        var nextID = UInt16.random(in: 0...UInt16.max)
        var isStopped = false
    }

    private init(targets: [SocketAddress], channels: [any Channel], timeouts: [TimeAmount], logger: Logger) {
        self.targets = targets
        self.channels = channels
        self.timeouts = timeouts
        self.logger = logger
        self.state = Mutex(State())
    }

    /// Binds a UDP socket for each address family among `targets` (on `sourceHost` when it is of
    /// that family, so a secondary that checks where a NOTIFY comes from sees our address).
    public static func start(
        targets: [SocketAddress], sourceHost: String?, group: any EventLoopGroup, logger: Logger,
        timeouts: [TimeAmount] = [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)]
    ) async throws -> NotifySender {
        var channels: [any Channel] = []
        let replies = ReplyRouter()
        for isIPv6 in [false, true] where targets.contains(where: { ($0.protocol == .inet6) == isIPv6 }) {
            let any = isIPv6 ? "::" : "0.0.0.0"
            let source = sourceHost.flatMap { try? SocketAddress(ipAddress: $0, port: 0) }
            let host = source.map { ($0.protocol == .inet6) == isIPv6 } == true ? sourceHost! : any
            let channel = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(NotifyReplyHandler(router: replies)) }
                }
                .bind(host: host, port: 0).get()
            channels.append(channel)
        }
        let sender = NotifySender(targets: targets, channels: channels, timeouts: timeouts, logger: logger)
        replies.sender.withLock { $0 = sender }
        return sender
    }

    /// Sends NOTIFY for each zone's new SOA (its owner the zone) to every secondary, unless one
    /// is in flight for that zone and secondary: the newest SOA then goes once that one is done.
    public func notify(_ soaRecords: [ResourceRecord]) {
        for soa in soaRecords {
            for target in targets.indices {
                let key = Key(zone: soa.name, target: target)
                let starts = state.withLock { state -> Bool in
                    guard !state.isStopped else { return false }
                    state.pending[key] = soa
                    return state.sending.insert(key).inserted
                }
                if starts { sendNext(key) }
            }
        }
    }

    /// Stops sending and closes the sockets. A NOTIFY awaiting its reply times out as usual and
    /// is not sent again.
    public func stop() async {
        state.withLock { state in
            state.isStopped = true
            state.pending = [:]
        }
        for channel in channels { try? await channel.close() }
    }

    /// Sends the pending SOA of `key`, if any, and once it is answered or given up on, the next.
    /// Runs on callbacks of the event loop, not on tasks: a NOTIFY must not wait for a thread of
    /// Swift's cooperative pool.
    private func sendNext(_ key: Key) {
        let next = state.withLock { state -> ResourceRecord? in
            guard let soa = state.pending.removeValue(forKey: key), !state.isStopped else {
                state.sending.remove(key)
                return nil
            }
            return soa
        }
        guard let next else { return }
        send(next, key: key, attempt: 0)
    }

    /// Try `attempt` (from 0) of the NOTIFY of `soa`.
    private func send(_ soa: ResourceRecord, key: Key, attempt: Int) {
        let target = targets[key.target]
        guard !state.withLock({ $0.isStopped }) else {
            sendNext(key)
            return
        }
        guard attempt < timeouts.count else {
            logger.warning("NOTIFY of \(key.zone) serial \(soa.serial) to \(target): no reply after \(timeouts.count) tries; the secondary will find the serial at its next SOA refresh")
            sendNext(key)
            return
        }
        sendOnce(soa, to: target, timeout: timeouts[attempt]).whenComplete { result in
            switch result {
            case .success(let reply):
                // A secondary that does not serve the zone says so (NOTAUTH, REFUSED): a reply all the same.
                self.logger.info("NOTIFY of \(key.zone) serial \(soa.serial) to \(target): answered \(reply)")
                self.sendNext(key)
            case .failure:
                self.logger.debug("NOTIFY of \(key.zone) serial \(soa.serial) to \(target): no reply (try \(attempt + 1) of \(self.timeouts.count))")
                self.send(soa, key: key, attempt: attempt + 1)
            }
        }
    }

    /// One NOTIFY: its reply's rcode, or a failure when none came within `timeout`.
    private func sendOnce(_ soa: ResourceRecord, to target: SocketAddress, timeout: TimeAmount) -> EventLoopFuture<ResponseCode> {
        guard let channel = channels.first(where: { $0.localAddress?.protocol == target.protocol }) else {
            return MultiThreadedEventLoopGroup.singleton.next().makeFailedFuture(ChannelError.ioOnClosedChannel)
        }
        let promise = channel.eventLoop.makePromise(of: ResponseCode.self)
        let id = state.withLock { state -> UInt16 in
            state.nextID &+= 1
            state.awaiting[state.nextID] = promise
            return state.nextID
        }
        let message = Self.message(id: id, soa: soa)
        let timer = channel.eventLoop.scheduleTask(in: timeout) { promise.fail(ChannelError.connectTimeout(timeout)) }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: message)), promise: nil)
        return promise.futureResult.always { _ in
            timer.cancel()
            _ = self.state.withLock { $0.awaiting.removeValue(forKey: id) }
        }
    }

    /// A reply to NOTIFY `id` arrived.
    fileprivate func replied(_ id: UInt16, _ code: ResponseCode) {
        state.withLock { $0.awaiting.removeValue(forKey: id) }?.succeed(code)
    }

    /// NOTIFY for `soa`'s zone: opcode 4, AA, the zone's SOA as the question, and the new SOA in
    /// the answer section, which RFC 1996 §3.7 allows, so the secondary's log names the serial.
    public static func message(id: UInt16, soa: ResourceRecord) -> [UInt8] {
        var header = DNSHeader(id: id)
        header.opcode = .notify
        header.isAuthoritative = true
        return DNSMessageEncoder.encode(DNSMessage(header: header, questions: [DNSQuestion(name: soa.name, type: .soa)], answers: [soa]))
    }
}

extension ResourceRecord {
    /// The serial of an SOA record; 0 for any other.
    var serial: UInt32 {
        guard case .soa(let soa) = data else { return 0 }
        return soa.serial
    }
}

/// Where the reply handlers find the sender, which exists only once its sockets are bound.
private final class ReplyRouter: Sendable {
    let sender = Mutex<NotifySender?>(nil)
}

/// Hands each NOTIFY reply's ID to the sender.
private final class NotifyReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let router: ReplyRouter

    init(router: ReplyRouter) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = Self.unwrapInboundIn(data).data
        guard let header = try? DNSMessageDecoder.decodeHeader(reply), header.isResponse, header.opcode == .notify else { return }
        router.sender.withLock { $0 }?.replied(header.id, header.responseCode)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable from a secondary that is down: the retries deal with it.
    }
}
