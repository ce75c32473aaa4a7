import ClusterZones
import DNSWire

extension Catalog {
    /// Every name between a reverse zone's origin and a PTR name it lists (in lower case): the
    /// empty non-terminals that answer NOERROR while an address below them is held. Worked out
    /// from the listed names, independently of how the zones find them.
    public var partialReverseNames: Set<DNSName> {
        var names = Set<DNSName>()
        for zone in reverseZones {
            forEachName(in: zone) { name, types in
                guard types == [.ptr] else { return }
                var ancestor = name.dropping(1)
                while ancestor.labelCount > zone.origin.labelCount {
                    names.insert(ancestor.lowercased())
                    ancestor = ancestor.dropping(1)
                }
            }
        }
        return names
    }
}
