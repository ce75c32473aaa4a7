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
    public static func decode(_ values: [(source: String, json: String)]) -> [Outcome] {
        guard values.count > 1 else { return values.map { decode(json: $0.json, source: $0.source) } }
        var text = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n"
        text.reserveCapacity(values.reduce(64) { $0 + $1.json.utf8.count + 2 })
        var alone = Set<Int>()
        for (index, value) in values.enumerated() {
            // Raw line breaks in JSON are only ever whitespace between tokens.
            let json = value.json.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D })
                ? String(value.json.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 }) : value.json
            if !mentionsAPIVersion(json) { alone.insert(index) }
            text += json.isEmpty ? "null" : json
            text += index == values.count - 1 ? "\n" : ",\n"
        }
        text += "]}"
        let batch = "stored values"
        guard case .success(let document) = JSONComposer.document(in: text) else {
            return values.map { decode(json: $0.json, source: $0.source) }
        }
        var decoder = ObjectDecoder()
        decoder.decode(document: document, file: batch)
        /// The value a line of the batch holds (value i is on line i + 2).
        func index(of location: SourceLocation?) -> Int? {
            guard let line = location?.line, line >= 2, line - 2 < values.count else { return nil }
            return line - 2
        }
        var warnings = [[RegistryError]](repeating: [], count: values.count)
        // A value naming the same object as one before it is dropped by the batch as a duplicate;
        // alone it is an object like any other.
        for error in decoder.errors + decoder.objects.duplicateErrors {
            guard let index = index(of: error.location) else {
                // An error the batch cannot place: trust none of it.
                return values.map { decode(json: $0.json, source: $0.source) }
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
        for object in decoder.takeObjects().objects {
            guard let index = index(of: object.location) else {
                return values.map { decode(json: $0.json, source: $0.source) }
            }
            if objects[index] != nil { alone.insert(index) }
            objects[index] = object.relocated(to: SourceLocation(file: values[index].source))
        }
        return values.indices.map { index in
            if alone.contains(index) { return decode(json: values[index].json, source: values[index].source) }
            guard let object = objects[index] else { return .ignored }
            return .object(object, warnings: warnings[index])
        }
    }

    private static let apiVersionKey = Array("\"apiVersion\"".utf8)

    /// Whether the text holds `"apiVersion"`, searched as bytes: `StringProtocol.contains` goes
    /// through Foundation's locale-aware search on Linux, and a list asks it of every value.
    static func mentionsAPIVersion(_ json: String) -> Bool {
        let needle = apiVersionKey
        return json.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard bytes.count >= needle.count else { return false }
            var start = 0
            let last = bytes.count - needle.count
            while start <= last {
                guard let quote = bytes[start...last].firstIndex(of: needle[0]) else { return false }
                if bytes[quote..<quote + needle.count].elementsEqual(needle) { return true }
                start = quote + 1
            }
            return false
        } ?? json.contains("\"apiVersion\"")
    }
}
