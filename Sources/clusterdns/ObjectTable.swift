import Foundation

/// `registry get`'s table: kubectl's columns for each kind, as far as the stored objects carry
/// them; AGE from `metadata.creationTimestamp`, which `registry apply` sets as the API server does.
struct ObjectTable {
    let kind: String
    let wide: Bool
    let allNamespaces: Bool
    /// What AGE counts up to.
    var now = Date()

    func render(_ items: [[String: Any]]) -> String {
        var header = columns
        if allNamespaces { header.insert("NAMESPACE", at: 0) }
        var rows = [header]
        for item in items {
            var row = values(item)
            if allNamespaces { row.insert(Self.metadata(item)["namespace"] as? String ?? "", at: 0) }
            rows.append(row)
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }

    private var columns: [String] {
        switch kind {
        case "Service": return ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"] + (wide ? ["SELECTOR"] : [])
        case "EndpointSlice": return ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"] + (wide ? ["SERVICE"] : [])
        case "Endpoints": return ["NAME", "ENDPOINTS", "AGE"]
        case "Pod": return ["NAME", "IP", "AGE"] + (wide ? ["HOSTNAME", "SUBDOMAIN"] : [])
        default: return ["NAME", "AGE"]
        }
    }

    private func values(_ item: [String: Any]) -> [String] {
        let name = Self.metadata(item)["name"] as? String ?? ""
        let spec = item["spec"] as? [String: Any] ?? [:]
        let age = Self.age(of: item, now: now)
        switch kind {
        case "Service":
            let type = spec["type"] as? String ?? "ClusterIP"
            let ports = (spec["ports"] as? [[String: Any]] ?? []).map { "\($0["port"] ?? "")/\($0["protocol"] as? String ?? "TCP")" }
            let external = spec["externalName"] as? String ?? "<none>"
            var row = [name, type, spec["clusterIP"] as? String ?? "<none>", external, ports.isEmpty ? "<none>" : ports.joined(separator: ","), age]
            if wide {
                let selector = (spec["selector"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                row.append(selector.isEmpty ? "<none>" : selector.joined(separator: ","))
            }
            return row
        case "EndpointSlice":
            let ports = (item["ports"] as? [[String: Any]] ?? []).map { "\($0["port"] ?? "")" }
            let addresses = (item["endpoints"] as? [[String: Any]] ?? []).flatMap { $0["addresses"] as? [String] ?? [] }
            var row = [name, item["addressType"] as? String ?? "", ports.isEmpty ? "<unset>" : ports.joined(separator: ","), addresses.isEmpty ? "<unset>" : addresses.joined(separator: ","), age]
            if wide { row.append((Self.metadata(item)["labels"] as? [String: Any])?["kubernetes.io/service-name"] as? String ?? "<none>") }
            return row
        case "Endpoints":
            let subsets = item["subsets"] as? [[String: Any]] ?? []
            let addresses = subsets.flatMap { ($0["addresses"] as? [[String: Any]] ?? []).compactMap { $0["ip"] as? String } }
            return [name, addresses.isEmpty ? "<none>" : addresses.joined(separator: ","), age]
        case "Pod":
            let status = item["status"] as? [String: Any] ?? [:]
            var row = [name, status["podIP"] as? String ?? "<none>", age]
            if wide { row += [spec["hostname"] as? String ?? "<none>", spec["subdomain"] as? String ?? "<none>"] }
            return row
        default:
            return [name, age]
        }
    }

    /// kubectl's AGE: the time since `metadata.creationTimestamp`, `<unknown>` without one.
    static func age(of item: [String: Any], now: Date) -> String {
        guard let text = metadata(item)["creationTimestamp"] as? String, let created = parseTimestamp(text) else { return "<unknown>" }
        return humanDuration(seconds: Int(now.timeIntervalSince(created).rounded(.down)))
    }

    /// `2026-11-29T20:30:00Z` (RFC 3339 in UTC, as the API server writes it).
    static func parseTimestamp(_ text: String) -> Date? {
        let fields = text.split(whereSeparator: { "-T:Z".contains($0) }).compactMap { Int32($0) }
        guard fields.count == 6, text.hasSuffix("Z") else { return nil }
        var parts = tm()
        (parts.tm_year, parts.tm_mon, parts.tm_mday) = (fields[0] - 1900, fields[1] - 1, fields[2])
        (parts.tm_hour, parts.tm_min, parts.tm_sec) = (fields[3], fields[4], fields[5])
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// How kubectl writes an age (apimachinery's `duration.HumanDuration`): exact seconds under
    /// two minutes, then coarser the older it is (`5m3s`, `3h12m`, `9d`, `2y45d`).
    static func humanDuration(seconds: Int) -> String {
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 {
            let days = hours / 24 % 365
            return days == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(days)d"
        }
        return "\(hours / 24 / 365)y"
    }

    private static func metadata(_ item: [String: Any]) -> [String: Any] {
        item["metadata"] as? [String: Any] ?? [:]
    }
}
