import DNSWire
import Synchronization

/// The query counters of every thread that answers, and their Prometheus text.
///
/// These are the metrics counted on the hot path, so each thread keeps its own (`QueryTally`) and
/// a scrape sums them. swift-prometheus's histograms take a lock per observation and cannot be
/// handed bucket counts summed elsewhere, so these families are written here, under CoreDNS's
/// names, labels and buckets; every other metric goes through swift-metrics.
public final class QueryMetrics: Sendable {
    private let tallies = Mutex<[QueryTally]>([])
    private let serverLabel: Mutex<String>
    private let shared: Mutex<QueryTally>

    /// - Parameter server: CoreDNS's `server` label, `dns://HOST:PORT` of the listener.
    public init(server: String) {
        serverLabel = Mutex(server)
        let sharedTally = QueryTally()
        shared = Mutex(sharedTally)
        tallies.withLock { $0.append(sharedTally) }
    }

    /// CoreDNS's `server` label; set again once the listener knows the port it bound.
    public var server: String {
        get { serverLabel.withLock { $0 } }
        set { serverLabel.withLock { $0 = newValue } }
    }

    /// A new tally for the calling thread, summed into every later scrape.
    func makeTally() -> QueryTally {
        let tally = QueryTally()
        tallies.withLock { $0.append(tally) }
        return tally
    }

    /// Counts a query answered off the answering threads (a forwarded one, sent when its upstream
    /// replied): under a lock, in one tally all such threads share; the slow path can afford it.
    func recordShared(_ query: QueryObservation) {
        shared.withLock { $0.record(query) }
    }

    /// The sum over every thread's tally.
    func totals() -> [UInt64] {
        let all = tallies.withLock { $0 }
        var sums = [UInt64](repeating: 0, count: QueryTally.Layout.slotCount)
        for tally in all {
            for slot in 0..<sums.count { sums[slot] &+= tally.value(at: slot) }
        }
        return sums
    }

    /// Queries answered so far, over every transport.
    public var queryCount: UInt64 {
        let sums = totals()
        typealias Layout = QueryTally.Layout
        return (Layout.pathBase..<Layout.pathBase + AnswerPath.allCases.count).reduce(0) { $0 + sums[$1] }
    }

    /// The Prometheus text exposition (format 0.0.4) of the query families.
    public func exposition() -> String {
        typealias Layout = QueryTally.Layout
        let sums = totals()
        let base = "server=\"\(server)\",zone=\".\",view=\"\""
        var text = ""

        text += "# HELP coredns_dns_requests_total Counter of DNS requests made per zone, protocol and family.\n"
        text += "# TYPE coredns_dns_requests_total counter\n"
        for (proto, protoName) in ["udp", "tcp"].enumerated() {
            for ipv6 in [false, true] {
                for (type, typeName) in Layout.typeNames.enumerated() {
                    let count = sums[Layout.request(proto: proto, ipv6: ipv6, type: type)]
                    guard count > 0 else { continue }
                    text += "coredns_dns_requests_total{\(base),proto=\"\(protoName)\",family=\"\(ipv6 ? 2 : 1)\",type=\"\(typeName)\"} \(count)\n"
                }
            }
        }

        text += "# HELP coredns_dns_responses_total Counter of response status codes.\n"
        text += "# TYPE coredns_dns_responses_total counter\n"
        for rcode in 0..<Layout.rcodes {
            for (plugin, pluginName) in Layout.pluginNames.enumerated() {
                let count = sums[Layout.response(rcode: rcode, plugin: plugin)]
                guard count > 0 else { continue }
                text += "coredns_dns_responses_total{\(base),rcode=\"\(Self.rcodeName(rcode))\",plugin=\"\(pluginName)\"} \(count)\n"
            }
        }

        text += "# HELP coredns_dns_request_duration_seconds Histogram of the time (in seconds) each request took per zone.\n"
        text += "# TYPE coredns_dns_request_duration_seconds histogram\n"
        text += histogram(
            "coredns_dns_request_duration_seconds", labels: base,
            bounds: Layout.durationBounds.map { Self.seconds($0) },
            counts: Array(sums[Layout.durationBase..<Layout.durationBase + Layout.durationSlots]),
            sum: Self.seconds(sums[Layout.durationSum]))

        for (family, help, bucketBase) in [
            ("coredns_dns_request_size_bytes", "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.", Layout.requestSizeBase),
            ("coredns_dns_response_size_bytes", "Size of the returned response in bytes.", Layout.responseSizeBase),
        ] {
            text += "# HELP \(family) \(help)\n# TYPE \(family) histogram\n"
            for (proto, protoName) in ["udp", "tcp"].enumerated() {
                let start = bucketBase + proto * (Layout.sizeSlots + 1)
                text += histogram(
                    family, labels: "\(base),proto=\"\(protoName)\"", bounds: Layout.sizeBounds.map(String.init),
                    counts: Array(sums[start..<start + Layout.sizeSlots]), sum: String(sums[start + Layout.sizeSlots]))
            }
        }

        text += "# HELP clusterdns_dns_answer_path_total Responses by the link of the answer chain that wrote them: table (compiled answers), cache, general, strict, rrl, forward-cache, forward.\n"
        text += "# TYPE clusterdns_dns_answer_path_total counter\n"
        for path in AnswerPath.allCases {
            text += "clusterdns_dns_answer_path_total{\(base),path=\"\(path.rawValue)\"} \(sums[Layout.path(path)])\n"
        }
        return text
    }

    /// Cumulative buckets, `+Inf`, sum and count, as the text format wants them.
    private func histogram(_ family: String, labels: String, bounds: [String], counts: [UInt64], sum: String) -> String {
        var text = ""
        var cumulative: UInt64 = 0
        for (index, bound) in bounds.enumerated() {
            cumulative += counts[index]
            text += "\(family)_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
        }
        cumulative += counts[bounds.count]
        text += "\(family)_bucket{\(labels),le=\"+Inf\"} \(cumulative)\n"
        text += "\(family)_sum{\(labels)} \(sum)\n"
        text += "\(family)_count{\(labels)} \(cumulative)\n"
        return text
    }

    private static func seconds(_ nanoseconds: UInt64) -> String {
        String(Double(nanoseconds) / 1e9)
    }

    private static func rcodeName(_ code: Int) -> String {
        let names = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"]
        return code < names.count ? names[code] : String(code)
    }
}
