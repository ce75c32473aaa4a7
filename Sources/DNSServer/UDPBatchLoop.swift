import Atomics
import DNSWire
import Logging
import NIOCore
import ServiceRegistry

#if canImport(Glibc)
import CUDPBatch
import Foundation
import Glibc
import Synchronization

/// A UDP socket served by a thread of its own with `recvmmsg`/`sendmmsg` and buffers allocated
/// once: the channel pipeline NIO puts around each datagram costs more CPU than answering a
/// cached question, so the UDP hot path can bypass it. Linux only; `--udp-engine nio` keeps NIO.
///
/// Unchecked Sendable: the buffers belong to the loop's thread; other threads only touch the
/// atomic flag and the file descriptor (to stop).
final class UDPBatchLoop: @unchecked Sendable {
    /// Datagrams per system call.
    static let batchSize = 64
    /// Bytes read per datagram, as the NIO engine reads (`DNSTransport.udpReceiveSize`).
    static let receiveSize = DNSTransport.udpReceiveSize
    /// Largest response sent over UDP: our EDNS payload size.
    static let sendSize = DNSTransport.udp.largestResponse

    let fileDescriptor: Int32
    let port: Int
    private let family: Int32
    private let responder: any DNSResponder
    private let rateLimit: ResponseRateLimit?
    private let logger: Logger
    private let running = ManagedAtomic(true)
    private let finished = ClosedLatch()
    /// The socket as deferred responses see it: they are sent from other threads, and must not
    /// reach a descriptor number reused after the loop closed its socket.
    private let deferredSocket: DeferredSendSocket

    /// Opens and binds a socket (SO_REUSEPORT, 4 MiB receive and send buffers) on `address`.
    init(address: SocketAddress, responder: any DNSResponder, rateLimit: ResponseRateLimit?, logger: Logger) throws {
        let family = address.protocol == .inet6 ? AF_INET6 : AF_INET
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: Int32 = 1
        var receiveBuffer: Int32 = 4 << 20
        // A short receive timeout lets the loop notice a stop request while idle.
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        // SO_REUSEPORT only, never SO_REUSEADDR: with both sockets flagged SO_REUSEADDR, Linux lets a
        // client (dig's libisc sets it) bind this port as its source, and its query to us comes back to it.
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
        // As large a send buffer, so a whole batch of replies is queued by one sendmmsg.
        setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if family == AF_INET6 {
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var storage = sockaddr_storage()
        let length = Self.fill(&storage, from: address)
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw IOError(errnoCode: code, reason: "bind")
        }
        var actual = sockaddr_storage()
        var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &actualLength) }
        }
        self.port = withUnsafePointer(to: &actual) { pointer -> Int in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        self.fileDescriptor = descriptor
        self.family = family
        self.deferredSocket = DeferredSendSocket(descriptor)
        self.responder = responder
        self.rateLimit = rateLimit
        self.logger = logger
    }

    /// A datagram's source address, for autopath.
    static func address(of peer: UnsafePointer<sockaddr_storage>) -> IPAddress? {
        let raw = UnsafeRawPointer(peer)
        switch Int32(peer.pointee.ss_family) {
        case AF_INET:
            let address = raw.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_addr
            return withUnsafeBytes(of: address) { IPAddress(bytes: $0) }
        case AF_INET6:
            let address = raw.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_addr
            return withUnsafeBytes(of: address) { IPAddress(bytes: $0) }
        default:
            return nil
        }
    }

    private static func fill(_ storage: inout sockaddr_storage, from address: SocketAddress) -> socklen_t {
        switch address {
        case .v4(let v4):
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee = v4.address }
            }
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        case .v6(let v6):
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee = v6.address }
            }
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        default:
            return 0
        }
    }

    /// Closes the socket of a loop that never started (a listener that failed to start).
    func closeUnstarted() {
        deferredSocket.close()
    }

    /// Starts the loop on a new thread.
    func start() {
        let thread = Thread { [self] in
            run()
            deferredSocket.close()
            finished.open()
        }
        thread.start()
    }

    /// Asks the loop to stop and waits until its socket is closed. The socket is shut down for
    /// reading too, which wakes a `recvmmsg` blocked on it at once (Linux does so even for an
    /// unconnected UDP socket), rather than leaving the stop to the receive timeout.
    func stop() async {
        running.store(false, ordering: .releasing)
        _ = Glibc.shutdown(fileDescriptor, Int32(SHUT_RD))
        await finished.wait()
    }

    private func run() {
        let batch = Self.batchSize
        let receiveArea = UnsafeMutableRawPointer.allocate(byteCount: batch * Self.receiveSize, alignment: 16)
        let sendArea = UnsafeMutableRawPointer.allocate(byteCount: batch * Self.sendSize, alignment: 16)
        let receiveVectors = UnsafeMutablePointer<iovec>.allocate(capacity: batch)
        let sendVectors = UnsafeMutablePointer<iovec>.allocate(capacity: batch)
        let receiveHeaders = UnsafeMutablePointer<cudp_mmsghdr>.allocate(capacity: batch)
        let sendHeaders = UnsafeMutablePointer<cudp_mmsghdr>.allocate(capacity: batch)
        let peers = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: batch)
        let replyPeers = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: batch)
        let reads = UnsafeMutablePointer<ReadQuery>.allocate(capacity: batch)
        defer {
            reads.deallocate()
            receiveArea.deallocate()
            sendArea.deallocate()
            receiveVectors.deallocate()
            sendVectors.deallocate()
            receiveHeaders.deallocate()
            sendHeaders.deallocate()
            peers.deallocate()
            replyPeers.deallocate()
        }
        // Which path answered each query, for the debug log; decided once, not per query.
        let logsAnswers = logger.logLevel <= .debug
        let isIPv6 = family == AF_INET6
        let counting = self.responder.countsQueries
        let autopaths = self.responder.autopaths
        let limiter = rateLimit.map { ResponseRateLimiter($0) }
        /// The bytes of the `index`th datagram received.
        func request(_ index: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: receiveArea + index * Self.receiveSize, count: Int(receiveHeaders[index].msg_len))
        }

        while running.load(ordering: .relaxed) {
            for index in 0..<batch {
                receiveVectors[index] = iovec(iov_base: receiveArea + index * Self.receiveSize, iov_len: Self.receiveSize)
                receiveHeaders[index] = cudp_mmsghdr()
                receiveHeaders[index].msg_hdr.msg_name = UnsafeMutableRawPointer(peers + index)
                receiveHeaders[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                receiveHeaders[index].msg_hdr.msg_iov = receiveVectors + index
                receiveHeaders[index].msg_hdr.msg_iovlen = 1
            }
            let received = Int(cudp_recvmmsg(fileDescriptor, receiveHeaders, UInt32(batch), cudp_msg_waitforone()))
            guard received > 0 else { continue }  // timeout (to check `running`), EINTR, or a transient error
            // Stopping: what the shutdown woke is not a query (an empty read), and nothing more is answered.
            guard running.load(ordering: .relaxed) else { break }

            // One view of the responder for the whole batch; every query read once, then answered.
            let responder = responder.batch()
            for index in 0..<received {
                reads.advanced(by: index).initialize(to: responder.read(request(index), over: .udp))
            }
            for index in 0..<received {
                responder.prefetch(reads[index])
            }
            var replies = 0
            let now = limiter == nil ? 0 : ResponseRateLimiter.nowMilliseconds()
            // Each query's time runs from the end of the one before (the batch's read, for the
            // first): one clock read a query.
            var answeredAt = counting ? monotonicNanoseconds() : 0
            for index in 0..<received where request(index).count <= DNSTransport.largestUDPQuery {
                let slot = sendArea + replies * Self.sendSize
                let response = responder.respondOverUDP(
                    to: request(index), reads[index], into: UnsafeMutableRawBufferPointer(start: slot, count: Self.sendSize),
                    limiter: limiter, client: { ResponseRateLimiter.netblock(of: peers + index) }, now: now,
                    later: { [deferredSocket] in
                        let peer = peers[index]
                        let peerLength = receiveHeaders[index].msg_hdr.msg_namelen
                        let reply = DeferredReply { deferredSocket.send($0, to: peer, length: peerLength) }
                        return self.responder.counting(
                            reply, transport: .udp, isIPv6: isIPv6, questionType: reads[index].view?.type,
                            requestBytes: request(index).count, started: answeredAt)
                    })
                guard var response else { continue }
                if autopaths {
                    response = responder.autopathing(
                        response, to: request(index), reads[index], client: { Self.address(of: peers + index) }, over: .udp,
                        into: UnsafeMutableRawBufferPointer(start: slot, count: Self.sendSize))
                }
                if counting, !response.isDeferred {
                    let finishedAt = monotonicNanoseconds()
                    responder.record(QueryObservation(
                        transport: .udp, isIPv6: isIPv6, questionType: reads[index].view?.type, requestBytes: request(index).count,
                        responseBytes: response.length, responseCode: slot.load(fromByteOffset: 3, as: UInt8.self) & 0x0F,
                        path: response.path, nanoseconds: finishedAt &- answeredAt))
                    answeredAt = finishedAt
                }
                if logsAnswers {
                    logger.debug("answered", metadata: ["path": "\(response.path.rawValue)", "bytes": "\(response.length)"])
                }
                guard !response.isDeferred else { continue }
                replyPeers[replies] = peers[index]
                sendVectors[replies] = iovec(iov_base: slot, iov_len: response.length)
                sendHeaders[replies] = cudp_mmsghdr()
                sendHeaders[replies].msg_hdr.msg_name = UnsafeMutableRawPointer(replyPeers + replies)
                sendHeaders[replies].msg_hdr.msg_namelen = receiveHeaders[index].msg_hdr.msg_namelen
                sendHeaders[replies].msg_hdr.msg_iov = sendVectors + replies
                sendHeaders[replies].msg_hdr.msg_iovlen = 1
                replies += 1
            }
            reads.deinitialize(count: received)
            var sent = 0
            while sent < replies {
                let result = cudp_sendmmsg(fileDescriptor, sendHeaders + sent, UInt32(replies - sent), 0)
                if result > 0 {
                    sent += Int(result)
                } else {
                    // A full send buffer or an unreachable client: drop the rest of this batch, as a
                    // busy UDP server must, rather than block every other client.
                    logger.trace("sendmmsg failed", metadata: ["errno": "\(errno)"])
                    break
                }
            }
        }
    }
}
/// A UDP socket that threads other than its loop's send deferred responses on, until it closes.
final class DeferredSendSocket: Sendable {
    private let descriptor: Mutex<Int32?>

    init(_ descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    /// Sends `response` to `peer`, unless the socket has closed; a failure is a lost datagram,
    /// as for any UDP response.
    func send(_ response: ByteBuffer, to peer: sockaddr_storage, length: socklen_t) {
        descriptor.withLock { descriptor in
            guard let descriptor else { return }
            var peer = peer
            _ = response.withUnsafeReadableBytes { bytes in
                withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, length) }
                }
            }
        }
    }

    func close() {
        descriptor.withLock { descriptor in
            if let open = descriptor { Glibc.close(open) }
            descriptor = nil
        }
    }
}
#else
/// recvmmsg and sendmmsg are Linux system calls; elsewhere the batch engine cannot start.
final class UDPBatchLoop: Sendable {
    let port = 0

    init(address: SocketAddress, responder: any DNSResponder, rateLimit: ResponseRateLimit?, logger: Logger) throws {
        throw DNSListener.StartError(description: "the batch UDP engine needs Linux; use --udp-engine nio")
    }

    func closeUnstarted() {}
    func start() {}
    func stop() async {}
}
#endif
