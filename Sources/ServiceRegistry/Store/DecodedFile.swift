import Foundation

/// What one manifest file holds once decoded: its valid objects (the first of two with the same
/// identity), the objects of other kinds, the objects rejected for errors, and the problems.
struct DecodedFile: Sendable {
    var path: String
    var objects: [RegistryObject] = []
    var skipped: [SkippedObject] = []
    /// Objects read far enough to know who they are, then left out for errors: a reload keeps
    /// their last good version.
    var rejected: [RejectedObject] = []
    /// ClusterIPs named by Services that were rejected: allocation must not hand them out, since
    /// the Service will most likely be fixed with that address.
    var reservedAddresses: Set<IPAddress> = []
    /// Errors and warnings, in the order found.
    var errors: [RegistryError] = []
    /// The file could not be read, or is not YAML/JSON from some point on: what it held before is
    /// kept whole, since a half-written or broken file says nothing about what was meant.
    var isBroken = false

    init(_ file: ManifestFile) {
        if file.streamsFromDisk {
            self = Self.streamingJSON(at: file.path).file
            return
        }
        switch file.contents {
        case .failure(let failure):
            self.init(path: file.path, unreadable: failure.reason)
        case .success(let text):
            self.init(path: file.path, parsed: ManifestParser.parse(text: text, file: file.path))
        }
    }

    /// Decodes YAML given as its UTF-8 bytes (a file read as bytes, or a document cut from one).
    init(path: String, yamlUTF8: UnsafeBufferPointer<UInt8>) {
        self.init(path: path, parsed: ManifestParser.parseYAML(utf8: yamlUTF8, file: path))
    }

    private init(path: String, parsed: (documents: [ManifestNode], errors: [RegistryError])) {
        var decoder = ObjectDecoder()
        for document in parsed.documents { decoder.decode(document: document, file: path) }
        self.init(path: path, decoder: decoder, syntaxErrors: parsed.errors)
    }

    /// One object `ObjectFastPath` read: valid, without a warning, naming no ClusterIP to reserve.
    private init(path: String, read object: RegistryObject) {
        self.path = path
        objects = [object]
    }

    private init(path: String, unreadable reason: String) {
        self.path = path
        errors.append(RegistryError(code: .unreadableFile, reason: reason, location: SourceLocation(file: path)))
        isBroken = true
    }

    /// - Parameter deliveredClusterIPs: the ClusterIPs of valid Services already handed over (a
    ///   streamed file's chunks): no longer among the objects, and not reserved either.
    private init(path: String, decoder: consuming ObjectDecoder, syntaxErrors: [RegistryError], deliveredClusterIPs: Set<IPAddress> = []) {
        self.path = path
        let decoded = decoder.takeObjects()
        objects = decoded.objects
        skipped = decoder.skipped
        rejected = decoder.rejected
        var named = decoder.claimedClusterIPs
        for object in objects {
            if case .service(let draft) = object.content { named.subtract(draft.service.clusterIPs) }
        }
        named.subtract(deliveredClusterIPs)
        reservedAddresses = named.compacted()
        errors = decoder.errors + syntaxErrors + decoded.duplicateErrors
        isBroken = !syntaxErrors.isEmpty
    }

    /// Decodes a JSON file read in chunks, a List's items one at a time as they are parsed (see
    /// `JSONComposer.streamDocument`); also returns the hash of the file's bytes.
    static func streamingJSON(at path: String) -> (file: DecodedFile, hash: Int) {
        let (file, hash, _) = streamingJSON(at: path, deliveringEvery: nil, to: { _ in })
        return (file, hash)
    }

    /// As above; with `deliveringEvery`, the valid objects decoded so far are handed to `deliver`
    /// each time that many are waiting, and the file returned holds only the others. `retracted`:
    /// objects were delivered, then the file turned out broken or no List of objects after all.
    /// - Parameter findingDuplicates: false when the receiver finds an object defined twice itself
    ///   (`RegistryLoad.stage`): a million keys are then recorded once, not twice.
    static func streamingJSON(
        at path: String, deliveringEvery chunkSize: Int?, findingDuplicates: Bool = true, to deliver: ([RegistryObject]) -> Void
    ) -> (file: DecodedFile, hash: Int, retracted: Bool) {
        // The composer keeps its item handler only while it composes this file.
        withoutActuallyEscaping(deliver) { deliver in
            streamingJSON(at: path, chunkSize: chunkSize, findingDuplicates: findingDuplicates, deliver: deliver)
        }
    }

    private static func streamingJSON(
        at path: String, chunkSize: Int?, findingDuplicates: Bool, deliver: @escaping ([RegistryObject]) -> Void
    ) -> (file: DecodedFile, hash: Int, retracted: Bool) {
        let stream: JSONFileStream
        do throws(JSONFileStream.Failure) {
            stream = try JSONFileStream(path: path)
        } catch {
            switch error {
            case .unreadable(let reason): return (DecodedFile(path: path, unreadable: "cannot be read (\(reason))"), 0, false)
            }
        }
        var decoder = ObjectDecoder(findsDuplicates: findingDuplicates)
        var itemWithoutKind = false
        var delivered = false
        // The ClusterIPs of delivered Services, which are no longer among the file's objects but
        // are valid: not reserved for a rejected Service.
        var deliveredClusterIPs = Set<IPAddress>()
        func deliverIfDue() {
            if let chunkSize, !itemWithoutKind, decoder.objects.count >= chunkSize {
                let objects = decoder.drainObjects()
                for object in objects {
                    if case .service(let draft) = object.content { deliveredClusterIPs.formUnion(draft.service.clusterIPs) }
                }
                deliver(objects)
                delivered = true
            }
        }
        // Items of the common shapes are read straight from their bytes; the others composed and
        // decoded. An item the fast path reads has its kind, as a List's items must.
        var scanner = FlatJSONScanner()
        let readItem = { (bytes: UnsafeBufferPointer<UInt8>, line: Int) -> Int? in
            guard !itemWithoutKind,
                  let (object, length) = ObjectFastPath.decodeItem(atStartOf: bytes, source: SourceLocation(file: path, line: line), scanner: &scanner)
            else { return nil }
            decoder.add(read: object, line: line)
            deliverIfDue()
            return length
        }
        let result = JSONComposer.streamDocument(from: stream, readItem: readItem) { item, listKind in
            guard listKind != nil || item["kind"] != nil else {
                itemWithoutKind = true
                return
            }
            decoder.decode(listItem: item, file: path, listKind: listKind ?? "List")
            deliverIfDue()
        }
        let hash = stream.finishHash()
        guard stream.isValidUTF8 else { return (DecodedFile(path: path, unreadable: "is not UTF-8 text"), hash, delivered) }
        switch result {
        case .failure(.unreadable(let reason)):
            return (DecodedFile(path: path, unreadable: "cannot be read (\(reason))"), hash, delivered)
        case .failure(.syntax(let error)):
            return (DecodedFile(path: path, decoder: ObjectDecoder(), syntaxErrors: [ManifestParser.jsonSyntaxError(error, file: path)]), hash, delivered)
        case .success(let root):
            // Items were decoded as those of a List: right unless the root is no List after all,
            // or a typed one (`ServiceList`, named after its items) whose items leave their kind out.
            if itemWithoutKind || (!root.isNull && !ObjectDecoder.isList(root)) {
                return (DecodedFile(ManifestLoader.readWhole(path)), hash, delivered)
            }
            if !root.isNull { decoder.decode(document: root, file: path) }
            return (DecodedFile(path: path, decoder: decoder, syntaxErrors: [], deliveredClusterIPs: deliveredClusterIPs), hash, false)
        }
    }

    /// Everything the file makes exist: its objects, and those of other kinds for their namespaces.
    var allObjects: [RegistryObject] {
        objects + skipped.map(RegistryObject.init(skipped:))
    }
}

extension Set<IPAddress> {
    /// These addresses in a set no larger than they need. The reserved addresses are what is left of
    /// every ClusterIP a file names once its valid Services' are taken out: nearly always none, in a
    /// set that kept room for all of them (1.6 MB, for as long as the file is served, at 50k Services).
    func compacted() -> Set<IPAddress> {
        guard capacity > count * 2 + 16 else { return self }
        var compact = Set(minimumCapacity: count)
        for address in self { compact.insert(address) }
        return compact
    }
}

extension RegistryObject {
    /// An object of a kind the registry skips, kept for the namespace it makes exist. Its key
    /// carries the API group, so a Knative `Service` is not mistaken for a `v1 Service`.
    init(skipped: SkippedObject) {
        let reference = ObjectReference(
            kind: "\(skipped.reference.kind) (\(skipped.apiVersion))", namespace: skipped.reference.namespace, name: skipped.reference.name)
        self.init(reference: reference, location: skipped.location, content: .other)
    }
}

extension DecodedFile {
    /// Decodes YAML that starts at line `firstLine` of `path` (a document of a larger file),
    /// with every location given as a line of the whole file.
    init(path: String, documentUTF8: UnsafeBufferPointer<UInt8>, firstLine: Int) {
        // The common shapes straight from their bytes (`ObjectFastPath`), the others parsed.
        var scanner = FlatJSONScanner()
        if let object = ObjectFastPath.decodeYAMLBlock(documentUTF8, file: path, firstLine: firstLine, scanner: &scanner) {
            self.init(path: path, read: object)
            return
        }
        self.init(path: path, yamlUTF8: documentUTF8)
        let shift = firstLine - 1
        guard shift != 0 else { return }
        func moved(_ location: SourceLocation) -> SourceLocation {
            SourceLocation(file: location.file, line: location.line.map { $0 + shift })
        }
        objects = objects.map { $0.relocated(to: moved($0.location)) }
        skipped = skipped.map { var copy = $0; copy.location = moved(copy.location); return copy }
        rejected = rejected.map { RejectedObject(reference: $0.reference, location: moved($0.location)) }
        errors = errors.map { var copy = $0; copy.location = copy.location.map(moved); return copy }
    }
}

/// A YAML file cut at its document markers (`---` at the start of a line), so that an edit parses
/// only the documents it changed: a one-object edit in a file of a thousand objects then costs one
/// object's parse, not a thousand. Cutting is exact because YAML documents are independent: a
/// marker line always starts a document, anchors do not cross documents, and directives (`%YAML`,
/// `%TAG`) are kept with the document they precede.
struct YAMLDocuments {
    struct Document {
        /// 1-based line of the document's first line in the file.
        var firstLine: Int
        /// Where the document's bytes are in the file's UTF-8.
        var range: Range<Int>
        var hash: Int
    }

    /// The whole file, as it was read; documents are cut from its UTF-8, never copied whole.
    private enum Storage {
        case text(String)
        /// Checked UTF-8 (`UTF8FileReader.readBytes`).
        case utf8([UInt8])
    }

    private let storage: Storage
    let documents: [Document]

    init(_ text: String) {
        var text = text
        self.documents = text.withUTF8(Self.split)
        self.storage = .text(text)
    }

    init(utf8 bytes: [UInt8]) {
        self.documents = bytes.withUnsafeBufferPointer(Self.split)
        self.storage = .utf8(bytes)
    }

    /// The identity of the file's bytes (never 0, which stands for "unreadable"), from its
    /// documents' hashes and lengths, which cover it whole: a file read for a poll is hashed once,
    /// as it is cut, not also in a pass of its own.
    var contentHash: Int {
        var identity: [Int] = []
        identity.reserveCapacity(documents.count * 2)
        for document in documents {
            identity.append(document.hash)
            identity.append(document.range.count)
        }
        let hash = identity.withUnsafeBytes(ContentHash.of)
        return hash == 0 ? 1 : hash
    }

    /// The file's bytes, for as long as `body` runs.
    private func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        switch storage {
        case .text(var text): text.withUTF8(body)
        case .utf8(let bytes): bytes.withUnsafeBufferPointer(body)
        }
    }

    /// One document decoded, its locations lines of the whole file.
    func decoded(_ document: Document, path: String) -> DecodedFile {
        withUTF8 { DecodedFile(path: path, documentUTF8: UnsafeBufferPointer(rebasing: $0[document.range]), firstLine: document.firstLine) }
    }

    /// The whole file decoded in one parse.
    func decodedWhole(path: String) -> DecodedFile {
        switch storage {
        case .text(let text): DecodedFile(ManifestFile(path: path, contents: .success(text)))
        case .utf8(let bytes): bytes.withUnsafeBufferPointer { DecodedFile(path: path, yamlUTF8: $0) }
        }
    }

    private static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> [Document] {
        var documents: [Document] = []
        var start = 0
        var startLine = 1
        var line = 1
        var directivesOnly = true
        // Directive lines (`%YAML`, `%TAG`) right before a marker belong to the document it starts.
        var directivesStart: (offset: Int, line: Int)?
        func close(at end: Int) {
            guard end > start else { return }
            let hash = ContentHash.of(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<end])))
            documents.append(Document(firstLine: startLine, range: start..<end, hash: hash))
        }
        let count = bytes.count
        guard let base = bytes.baseAddress else { return [] }
        var lineStart = 0
        while lineStart < count {
            // Inside a document's content only a line starting with `---` or `%` can cut it: the
            // others are skipped many at a time, their newlines only counted.
            if !directivesOnly && directivesStart == nil && !startsMarkerOrDirective(at: lineStart, in: bytes) {
                guard let next = lineStartingMarkerOrDirective(after: lineStart, in: bytes, counting: &line) else { break }
                lineStart = next
            }
            let first = bytes[lineStart]
            let isMarker = first == 0x2D && startsMarkerOrDirective(at: lineStart, in: bytes)
                && (lineStart + 3 == count || [0x0A, 0x20, 0x09, 0x0D].contains(bytes[lineStart + 3]))
            if isMarker {
                if !directivesOnly {
                    let cut = directivesStart ?? (lineStart, line)
                    close(at: cut.offset)
                    start = cut.offset
                    startLine = cut.line
                }
                directivesOnly = true
                directivesStart = nil
            } else if first == UInt8(ascii: "%") {
                if directivesStart == nil { directivesStart = (lineStart, line) }
            } else {
                directivesStart = nil
                if first != UInt8(ascii: "#") && first != 0x0A { directivesOnly = false }
            }
            // memchr: the line's end is found many bytes a step, which a byte loop is not.
            guard let newline = memchr(base + lineStart, 0x0A, count - lineStart) else { break }
            lineStart = base.distance(to: newline.assumingMemoryBound(to: UInt8.self)) + 1
            line += 1
        }
        close(at: count)
        return documents
    }

    /// Whether the line starting at `offset` begins with `---` or `%`: a document marker or a
    /// directive, or a line a cut must look at to tell (`----`, `---x`).
    @inline(__always)
    private static func startsMarkerOrDirective(at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let first = bytes[offset]
        return first == 0x25 || (first == 0x2D && offset + 2 < bytes.count && bytes[offset + 1] == 0x2D && bytes[offset + 2] == 0x2D)
    }

    /// The start of the first line after `offset` that begins with `---` or `%`, adding to `line`
    /// the newlines on the way; nil when there is none.
    ///
    /// Sixteen bytes a step: the standard library's SIMD types compare them at once (SSE2), and a
    /// newline count is kept per lane. A loop over the lines with `memchr` (a call per 20-byte line)
    /// took 0.36 ms of each 730 KiB namespace file read in the churn benchmark; this takes 0.06.
    /// Lines starting with a single `-` (a block sequence's items, `- addresses:`, `- port: 80`,
    /// as many as the markers in kubectl's YAML) are skipped too: they cannot cut a document.
    private static func lineStartingMarkerOrDirective(after offset: Int, in bytes: UnsafeBufferPointer<UInt8>, counting line: inout Int) -> Int? {
        let count = bytes.count
        guard let base = bytes.baseAddress.map(UnsafeRawPointer.init) else { return nil }
        let newline = SIMD16<UInt8>(repeating: 0x0A)
        let dash = SIMD16<UInt8>(repeating: 0x2D)
        let percent = SIMD16<UInt8>(repeating: 0x25)
        var newlinesPerLane = SIMD16<UInt8>(repeating: 0)
        var blocksCounted = 0
        func flushCount() {
            // Lane by lane: the widening conversion to sum them is a generic call here.
            for lane in 0..<16 { line += Int(newlinesPerLane[lane]) }
            newlinesPerLane = .zero
            blocksCounted = 0
        }
        var position = offset
        // Each block compares its bytes with newlines and the three bytes after each with `---`,
        // the first also with `%`.
        while position + 19 <= count {
            let isNewline = base.loadUnaligned(fromByteOffset: position, as: SIMD16<UInt8>.self) .== newline
            let first = base.loadUnaligned(fromByteOffset: position + 1, as: SIMD16<UInt8>.self)
            let second = base.loadUnaligned(fromByteOffset: position + 2, as: SIMD16<UInt8>.self)
            let third = base.loadUnaligned(fromByteOffset: position + 3, as: SIMD16<UInt8>.self)
            let markerOrDirective = (first .== dash) .& (second .== dash) .& (third .== dash) .| (first .== percent)
            let found = isNewline .& markerOrDirective
            // `any(found)` is a call to a reduction here; the mask's two words are not.
            let words = unsafeBitCast(found, to: SIMD2<UInt64>.self)
            if words[0] | words[1] != 0 { break }
            newlinesPerLane &-= unsafeBitCast(isNewline, to: SIMD16<UInt8>.self)
            blocksCounted += 1
            if blocksCounted == 255 { flushCount() }
            position += 16
        }
        flushCount()
        // The block holding the line, or the bytes short of a block.
        while position + 1 < count {
            if bytes[position] == 0x0A {
                line += 1
                if startsMarkerOrDirective(at: position + 1, in: bytes) { return position + 1 }
            }
            position += 1
        }
        return nil
    }
}
