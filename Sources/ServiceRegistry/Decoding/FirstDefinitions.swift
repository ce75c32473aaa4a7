/// Where each object of a load was first defined, so that a second definition's error can name the
/// first. It holds every object of the load at once, so it keeps a key's digest (`KeyDigest`) and a
/// file number and line (24-byte buckets) rather than the key and its location: at a million
/// objects the two tables of keys and locations this replaces (the decoder's and the load's) were
/// 310 MB of the load's peak.
struct FirstDefinitions {
    private struct Place {
        var file: UInt32
        /// -1: unknown.
        var line: Int32
    }

    private var places: [KeyDigest: Place] = [:]
    private var files = PathNumbers()

    mutating func reserveCapacity(_ count: Int) {
        places.reserveCapacity(count)
    }

    /// Records `location` for `key`; when `key` was defined before, returns where, and records nothing.
    mutating func earlierLocation(of key: RegistryObjectKey, recording location: SourceLocation) -> SourceLocation? {
        let place = Place(file: files.number(of: location.file), line: Int32(clamping: location.line ?? -1))
        // One hash of the key for the common case, an object defined once.
        guard let earlier = places.updateValue(place, forKey: KeyDigest(key)) else { return nil }
        places[KeyDigest(key)] = earlier
        return SourceLocation(file: files[earlier.file], line: earlier.line < 0 ? nil : Int(earlier.line))
    }
}
