import Foundation

/// `registry get`'s table: kubectl's columns for each kind, as far as the stored objects carry
/// them (etcd keeps no creation time, so there is no AGE).
struct ObjectTable {
    let kind: String
    let wide: Bool
    let allNamespaces: Bool

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
        case "Service": return ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"] + (wide ? ["SELECTOR"] : [])
        case "EndpointSlice": return ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS"] + (wide ? ["SERVICE"] : [])
        case "Endpoints": return ["NAME", "ENDPOINTS"]
        case "Pod": return ["NAME", "IP"] + (wide ? ["HOSTNAME", "SUBDOMAIN"] : [])
        default: return ["NAME"]
        }
    }

    private func values(_ item: [String: Any]) -> [String] {
        let name = Self.metadata(item)["name"] as? String ?? ""
        let spec = item["spec"] as? [String: Any] ?? [:]
        switch kind {
        case "Service":
            let type = spec["type"] as? String ?? "ClusterIP"
            let ports = (spec["ports"] as? [[String: Any]] ?? []).map { "\($0["port"] ?? "")/\($0["protocol"] as? String ?? "TCP")" }
            let external = spec["externalName"] as? String ?? "<none>"
            var row = [name, type, spec["clusterIP"] as? String ?? "<none>", external, ports.isEmpty ? "<none>" : ports.joined(separator: ",")]
            if wide {
                let selector = (spec["selector"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                row.append(selector.isEmpty ? "<none>" : selector.joined(separator: ","))
            }
            return row
        case "EndpointSlice":
            let ports = (item["ports"] as? [[String: Any]] ?? []).map { "\($0["port"] ?? "")" }
            let addresses = (item["endpoints"] as? [[String: Any]] ?? []).flatMap { $0["addresses"] as? [String] ?? [] }
            var row = [name, item["addressType"] as? String ?? "", ports.isEmpty ? "<unset>" : ports.joined(separator: ","), addresses.isEmpty ? "<unset>" : addresses.joined(separator: ",")]
            if wide { row.append((Self.metadata(item)["labels"] as? [String: Any])?["kubernetes.io/service-name"] as? String ?? "<none>") }
            return row
        case "Endpoints":
            let subsets = item["subsets"] as? [[String: Any]] ?? []
            let addresses = subsets.flatMap { ($0["addresses"] as? [[String: Any]] ?? []).compactMap { $0["ip"] as? String } }
            return [name, addresses.isEmpty ? "<none>" : addresses.joined(separator: ",")]
        case "Pod":
            let status = item["status"] as? [String: Any] ?? [:]
            var row = [name, status["podIP"] as? String ?? "<none>"]
            if wide { row += [spec["hostname"] as? String ?? "<none>", spec["subdomain"] as? String ?? "<none>"] }
            return row
        default:
            return [name]
        }
    }

    private static func metadata(_ item: [String: Any]) -> [String: Any] {
        item["metadata"] as? [String: Any] ?? [:]
    }
}
