#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes one object stored as JSON outside any file: a value in etcd, as kube-apiserver writes it
/// with `--storage-media-type=application/json`. The same parser and per-kind validation as
/// manifests, so an object is accepted from etcd exactly when `clusterdns check` accepts it.
public enum StoredObjectDecoding {
    /// What one stored value turned out to be.
    public enum Outcome: Sendable {
        /// A valid object (warnings, if any, are in `warnings`).
        case object(RegistryObject, warnings: [RegistryError])
        /// A valid object of a kind or shape DNS does not read (an FQDN EndpointSlice): it holds nothing.
        case ignored
        /// The value cannot be used; the errors say why.
        case rejected([RegistryError])
    }

    /// - Parameters:
    ///   - json: the value's text.
    ///   - source: where it is stored (the etcd key), used as the "file" of every location and error.
    public static func decode(json: String, source: String) -> Outcome {
        let document: ManifestNode
        switch JSONComposer.document(in: json) {
        case .success(let node):
            document = node
        case .failure(let error):
            return .rejected([ManifestParser.jsonSyntaxError(error, file: source)])
        }
        guard !document.isNull else {
            return .rejected([RegistryError(code: .invalidValue, reason: "the value is null, not an object", location: SourceLocation(file: source))])
        }
        var decoder = ObjectDecoder()
        decoder.decode(document: document, file: source)
        let hard = decoder.errors.filter { !$0.isWarning }
        if !hard.isEmpty { return .rejected(decoder.errors) }
        let objects = decoder.takeObjects().objects
        guard objects.count <= 1 else {
            return .rejected([RegistryError(code: .invalidValue, reason: "holds \(objects.count) objects (a List?); a stored value is one object", location: SourceLocation(file: source))])
        }
        guard let object = objects.first else { return .ignored }
        return .object(object, warnings: decoder.errors)
    }

    /// Decodes many stored values at once, with exactly the outcomes `decode(json:source:)` gives
    /// each, but parsed as one document: each value on its own line of a `List`, so the lines of
    /// the objects and errors say which value they belong to. A parse makes a tree in memory
    /// mappings of its own, three a document, which for a list of 120k small values (etcd's) was
    /// most of the time (mapping, faulting and unmapping them, on every core at once). A value the
    /// batch cannot vouch for (an error on its line, not one object, no `apiVersion`, which a List
    /// item may leave out but a stored object may not) is decoded alone; so is every value of a
    /// batch that is not valid JSON as a whole.
    /// The values are bytes, as etcd stores them, copied once into the batch. Before any of that,
    /// `ObjectFastPath` reads the values of the common shapes straight into their objects;
    /// the batch holds the others.
    public static func decode(_ values: [(source: String, json: [UInt8])]) -> [Outcome] {
        func decodedAlone(_ index: Int) -> Outcome {
            decode(json: String(decoding: values[index].json, as: UTF8.self), source: values[index].source)
        }
        guard values.count > 1 else { return values.indices.map(decodedAlone) }
        var scanner = FlatJSONScanner()
        let read = values.map { value in
            value.json.withUnsafeBufferPointer { ObjectFastPath.decode($0, source: value.source, scanner: &scanner) }
        }
        func outcome(_ index: Int, batched: () -> Outcome) -> Outcome {
            if let object = read[index] { return .object(object, warnings: []) }
            return batched()
        }
        guard read.contains(where: { $0 == nil }) else { return values.indices.map { outcome($0) { .ignored } } }
        var text = Array("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n".utf8)
        text.reserveCapacity(values.indices.reduce(64) { $0 + (read[$1] == nil ? values[$1].json.count : 4) + 2 })
        var alone = Set<Int>()
        for (index, value) in values.enumerated() {
            // A value on several lines would shift the lines that say which value is which (never
            // kube-apiserver's compact JSON), and one without apiVersion is no stored object;
            // each is decoded alone, and holds its place in the batch with a null, as does one
            // the fast path read.
            if read[index] != nil {
                text += "null".utf8
            } else if value.json.isEmpty || spansLines(value.json) || !mentionsAPIVersion(value.json) {
                alone.insert(index)
                text += "null".utf8
            } else {
                text += value.json
            }
            text += index == values.count - 1 ? "\n".utf8 : ",\n".utf8
        }
        text += "]}".utf8
        let batch = "stored values"
        guard case .success(let document) = JSONComposer.document(in: String(decoding: text, as: UTF8.self)) else {
            return values.indices.map { index in outcome(index) { decodedAlone(index) } }
        }
        /// The value a line of the batch holds (value i is on line i + 2).
        func index(ofLine line: Int?) -> Int? {
            guard let line, line >= 2, line - 2 < values.count else { return nil }
            return line - 2
        }
        // Each value is an object of its own: two naming the same object are no duplicate. Its
        // object is made located at the value's key.
        var decoder = ObjectDecoder(findsDuplicates: false)
        decoder.locate = { line in index(ofLine: line).map { SourceLocation(file: values[$0].source) } }
        decoder.reserveObjects(values.count)
        decoder.decode(document: document, file: batch)
        var warnings = [[RegistryError]](repeating: [], count: values.count)
        for error in decoder.errors {
            guard let index = index(ofLine: error.location?.line) else {
                // An error the batch cannot place: trust none of it.
                return values.indices.map { index in outcome(index) { decodedAlone(index) } }
            }
            if error.isWarning {
                var error = error
                error.location = SourceLocation(file: values[index].source)
                warnings[index].append(error)
            } else {
                alone.insert(index)
            }
        }
        var objects = [RegistryObject?](repeating: nil, count: values.count)
        let decoded = decoder.takeObjects()
        for (object, line) in zip(decoded.objects, decoded.lines) {
            guard let index = index(ofLine: line) else {
                return values.indices.map { index in outcome(index) { decodedAlone(index) } }
            }
            if objects[index] != nil { alone.insert(index) }
            objects[index] = object
        }
        return values.indices.map { index in
            outcome(index) {
                if alone.contains(index) { return decodedAlone(index) }
                guard let object = objects[index] else { return .ignored }
                return .object(object, warnings: warnings[index])
            }
        }
    }

    private static let apiVersionKey = Array("\"apiVersion\"".utf8)

    /// Whether the text holds `"apiVersion"`: searched as bytes, not with `contains`, which on
    /// Linux is Foundation's locale-aware search; a list asks it of every value.
    static func mentionsAPIVersion(_ json: [UInt8]) -> Bool {
        json.withUnsafeBytes { haystack in
            apiVersionKey.withUnsafeBytes { needle in
                guard let haystackStart = haystack.baseAddress, let needleStart = needle.baseAddress else { return false }
                // memchr to each quote, memcmp there (Glibc's module leaves out GNU's memmem).
                var offset = 0
                while haystack.count - offset >= needle.count {
                    guard let quote = memchr(haystackStart + offset, Int32(needle[0]), haystack.count - offset - needle.count + 1) else { return false }
                    if memcmp(quote, needleStart, needle.count) == 0 { return true }
                    offset = UnsafeRawPointer(quote) - haystackStart + 1
                }
                return false
            }
        }
    }

    /// Whether the value holds a line break (`memchr`: values are megabytes a page).
    static func spansLines(_ json: [UInt8]) -> Bool {
        json.withUnsafeBytes { bytes in
            guard let start = bytes.baseAddress else { return false }
            return memchr(start, 0x0A, bytes.count) != nil || memchr(start, 0x0D, bytes.count) != nil
        }
    }
}
