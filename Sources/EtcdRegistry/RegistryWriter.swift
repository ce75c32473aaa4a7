import Foundation
import ServiceRegistry

/// Writes objects into etcd the way `kubectl apply` reaches the API server: each object with a
/// compare-and-swap on the mod_revision it was read at, so a concurrent writer is never
/// overwritten unseen (the write is read and tried again), and a Service without a ClusterIP gets
/// one from the service CIDR in the same transaction that writes it, claimed under
/// `EtcdKeyLayout.clusterIPKey`: two applies racing for one address cannot both win.
public struct RegistryWriter: Sendable {
    public enum Outcome: String, Sendable {
        case created, configured, unchanged
    }

    public let client: EtcdClient
    public let layout: EtcdKeyLayout
    public let serviceCIDR: IPNetwork
    /// Tries of one object's compare-and-swap before giving up (each lost race reads again).
    public var attempts = 20

    public init(client: EtcdClient, layout: EtcdKeyLayout, serviceCIDR: IPNetwork) {
        self.client = client
        self.layout = layout
        self.serviceCIDR = serviceCIDR
    }

    /// Writes one object (its JSON, canonical: see `StoredJSON`).
    public func apply(_ object: StoredJSON) async throws(RegistryWriteError) -> Outcome {
        guard let key = layout.key(kind: object.reference.kind, namespace: object.reference.namespace, name: object.reference.name) else {
            throw RegistryWriteError(object.reference, "ClusterDNS does not store \(object.reference.kind) objects")
        }
        for _ in 0..<attempts {
            let existing: EtcdKeyValue?
            do { existing = try await client.get(key).0 } catch { throw RegistryWriteError(object.reference, "cannot read \(key): \(error)") }
            var desired = object
            var claim: IPAddress?
            let stored = existing.flatMap { StoredJSON(reference: object.reference, bytes: $0.value) }
            let held = stored?.clusterIP
            desired.setCreationTimestamp(stored?.creationTimestamp ?? StoredJSON.timestamp(Date()))
            if object.reference.kind == "Service", desired.wantsClusterIP {
                if let held {
                    desired.setClusterIP(held)
                } else {
                    claim = try await freeClusterIP(for: object.reference)
                    desired.setClusterIP(claim!.description)
                }
            } else if object.reference.kind == "Service", let named = desired.clusterIP.flatMap({ IPAddress($0) }), desired.clusterIP != held {
                claim = named
            }
            if let stored, stored.bytes == desired.bytes {
                return .unchanged
            }
            var compare = [EtcdCompare.modRevision(key, equals: existing?.modRevision ?? 0)]
            var writes = [EtcdOperation.put(key: key, value: desired.bytes)]
            if let claim {
                let owner = try await clusterIPOwner(claim)
                if let owner, owner != object.reference.ownerText {
                    // An address we picked was taken meanwhile: pick again. One the object names: refuse.
                    guard object.clusterIP == nil else {
                        throw RegistryWriteError(object.reference, "ClusterIP \(claim) is already allocated to Service \(owner)")
                    }
                    continue
                }
                if owner == nil {
                    compare.append(.absent(layout.clusterIPKey(claim)))
                    writes.append(.put(key: layout.clusterIPKey(claim), value: Array(object.reference.ownerText.utf8)))
                }
                // The address it held before is free again.
                if let old = held.flatMap({ IPAddress($0) }), try await clusterIPOwner(old) == object.reference.ownerText {
                    writes.append(.delete(key: layout.clusterIPKey(old)))
                }
            }
            do {
                let result = try await client.txn(compare: compare, success: writes)
                if result.succeeded { return existing == nil ? .created : .configured }
            } catch {
                throw RegistryWriteError(object.reference, "cannot write \(key): \(error)")
            }
        }
        throw RegistryWriteError(object.reference, "gave up after \(attempts) tries: other writers kept changing it (or its ClusterIP) first")
    }

    /// Deletes one object (and releases the ClusterIP it holds); false when there was none.
    public func delete(_ reference: ObjectReference) async throws(RegistryWriteError) -> Bool {
        guard let key = layout.key(kind: reference.kind, namespace: reference.namespace, name: reference.name) else {
            throw RegistryWriteError(reference, "ClusterDNS does not store \(reference.kind) objects")
        }
        do {
            for _ in 0..<attempts {
                guard let existing = try await client.get(key).0 else { return false }
                var writes = [EtcdOperation.delete(key: key)]
                if let ip = StoredJSON(reference: reference, bytes: existing.value)?.clusterIP.flatMap({ IPAddress($0) }),
                   try await clusterIPOwner(ip) == reference.ownerText {
                    writes.append(.delete(key: layout.clusterIPKey(ip)))
                }
                let result = try await client.txn(compare: [.modRevision(key, equals: existing.modRevision)], success: writes)
                if result.succeeded { return true }
            }
        } catch let error as EtcdError {
            throw RegistryWriteError(reference, "cannot delete \(key): \(error)")
        } catch {
            throw RegistryWriteError(reference, "cannot delete \(key): \(error)")
        }
        throw RegistryWriteError(reference, "gave up after \(attempts) tries: other writers kept changing it first")
    }

    private func clusterIPOwner(_ address: IPAddress) async throws(RegistryWriteError) -> String? {
        do {
            return try await client.get(layout.clusterIPKey(address)).0.map(\.text)
        } catch {
            throw RegistryWriteError(nil, "cannot read the ClusterIP allocations: \(error)")
        }
    }

    /// The first address of the CIDR (after the network address) that no Service names and no
    /// allocation holds, as etcd has them now; the transaction that claims it settles any race.
    private func freeClusterIP(for reference: ObjectReference) async throws(RegistryWriteError) -> IPAddress {
        var taken = Set<IPAddress>()
        do {
            for keyValue in try await client.list(prefix: layout.clusterIPPrefix).keyValues {
                if let address = IPAddress(keyValue.key.dropFirst(layout.clusterIPPrefix.count)) { taken.insert(address) }
            }
            for keyValue in try await client.list(prefix: layout.kindPrefix(kind: "Service")!).keyValues {
                if let address = StoredJSON(reference: reference, bytes: keyValue.value)?.clusterIP.flatMap({ IPAddress($0) }) { taken.insert(address) }
            }
        } catch {
            throw RegistryWriteError(reference, "cannot read the ClusterIPs in use: \(error)")
        }
        let size: UInt64 = serviceCIDR.hostBits >= 63 ? UInt64.max : (1 << UInt64(serviceCIDR.hostBits))
        var offset: UInt64 = 1
        while offset < size - 1 || (serviceCIDR.hostBits == 0 && offset == 0) {
            let candidate = Self.address(serviceCIDR.address, plus: offset)
            if !taken.contains(candidate) { return candidate }
            offset += 1
            if offset > 1 << 20 { break }
        }
        throw RegistryWriteError(reference, "no free ClusterIP left in \(serviceCIDR)")
    }

    static func address(_ base: IPAddress, plus offset: UInt64) -> IPAddress {
        switch base {
        case .v4(let value): return .v4(value &+ UInt32(truncatingIfNeeded: offset))
        case .v6(let high, let low):
            let (sum, overflow) = low.addingReportingOverflow(offset)
            return .v6(high: overflow ? high &+ 1 : high, low: sum)
        }
    }
}

/// A write that failed, naming the object and what etcd (or the allocation) said.
public struct RegistryWriteError: Error, Sendable, CustomStringConvertible {
    public var object: ObjectReference?
    public var reason: String

    public init(_ object: ObjectReference?, _ reason: String) {
        self.object = object
        self.reason = reason
    }

    public var description: String {
        object.map { "\($0): \(reason)" } ?? reason
    }
}

extension ObjectReference {
    /// `shop/web`: how an allocation names its Service.
    var ownerText: String { "\(namespace)/\(name)" }
}
