import ArgumentParser
import ClusterZones
import DNSServer
import DNSWire
import Logging
import NIOCore
import NIOPosix
import ServiceRegistry

/// `serve`'s zone transfer flags: who may transfer the zones (AXFR, IXFR over TCP), and which
/// secondaries hear of each new serial (NOTIFY). With neither, no change history is kept.
struct TransferOptions: ParsableArguments {
    @Option(
        name: .customLong("transfer-to"),
        help: ArgumentHelp("Clients in this network may transfer every zone (AXFR, IXFR over TCP); repeatable. A bare address is that address alone. Default: every transfer is REFUSED.", valueName: "cidr"),
        transform: TransferOptions.network)
    var transferTo: [IPNetwork] = []

    @Option(
        name: .customLong("notify"),
        help: ArgumentHelp("Send NOTIFY to this secondary (ADDR or ADDR:PORT, port 53 by default; [v6]:PORT) when a zone's serial changes; repeatable.", valueName: "addr"))
    var notify: [String] = []

    func validate() throws {
        for target in notify where Self.notifyTarget(target) == nil {
            throw ValidationError("--notify \(target) is not an address or ADDR:PORT (for example 127.0.0.1:53 or [::1]:5300)")
        }
    }

    /// Whether transfers are configured at all: only then is a change history kept.
    var isEnabled: Bool { !transferTo.isEmpty || !notify.isEmpty }

    /// The transfers to serve; nil without `--transfer-to` or `--notify`. NOTIFY goes out from
    /// `listenHost` when it is an address of the secondary's family.
    func makeTransfers(listenHost: String, logger: Logger) async throws -> ZoneTransfers? {
        guard isEnabled else { return nil }
        var notifier: NotifySender?
        if !notify.isEmpty {
            let targets = try notify.map { text -> SocketAddress in
                let target = Self.notifyTarget(text)!
                return try SocketAddress(ipAddress: target.host, port: target.port)
            }
            notifier = try await NotifySender.start(targets: targets, sourceHost: listenHost, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        }
        logger.info("zone transfers: to \(transferTo.isEmpty ? "nobody" : transferTo.map(\.description).joined(separator: ", ")); NOTIFY to \(notify.isEmpty ? "nobody" : notify.joined(separator: ", ")); IXFR history of \(TransferHistoryLimits().versions) versions, \(TransferHistoryLimits().records) records a zone")
        return ZoneTransfers(allowed: transferTo, notifier: notifier)
    }

    /// `ADDR`, `ADDR:PORT` or `[V6]:PORT`, as a literal address and a port.
    static func notifyTarget(_ text: String) -> ListenAddress? {
        if IPAddress(text) != nil { return ListenAddress(host: text, port: 53) }
        guard let address = ListenAddress(text), IPAddress(address.host) != nil else { return nil }
        return address
    }

    private static func network(_ text: String) throws -> IPNetwork {
        if let network = IPNetwork(text) { return network }
        if let address = IPAddress(text), let host = IPNetwork(address: address, prefixLength: address.isIPv4 ? 32 : 128) { return host }
        throw ValidationError("--transfer-to '\(text)' is not a network such as 10.0.0.0/8 or an address such as 192.0.2.53")
    }
}
