/// Hands out ClusterIPs for Services whose manifests have none, deterministically: each Service
/// starts probing at a hash of its namespace/name, so the same registry always gets the same
/// addresses whatever order its files are read in (the store allocates in namespace/name order).
enum ClusterIPAllocator {
    /// Probing stops after this many addresses, so a huge IPv6 range cannot stall a load.
    static let maximumProbes: UInt64 = 1 << 22

    /// A free address of `network` for the Service, skipping the network address and (IPv4) the
    /// broadcast address; nil when the range is full.
    static func allocate(namespace: String, name: String, in network: IPNetwork, isTaken: (IPAddress) -> Bool) -> IPAddress? {
        let hostBits = min(network.hostBits, 63)
        guard hostBits >= 2 else { return nil }
        let size = UInt64(1) << UInt64(hostBits)
        // Usable offsets are 1...size-2 for IPv4 (no network, no broadcast), 1...size-1 for IPv6.
        let usable = network.isIPv4 ? size - 2 : size - 1
        let start = hash("\(namespace)/\(name)") % usable
        for probe in 0..<min(usable, maximumProbes) {
            let candidate = network.address(atOffset: 1 + (start + probe) % usable)
            if !isTaken(candidate) { return candidate }
        }
        return nil
    }

    /// FNV-1a, 64 bits: stable across runs and platforms, unlike `Hasher`.
    static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
