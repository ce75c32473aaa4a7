/// etcd's `RangeRequest` and `RangeResponse` in protobuf, written and read by hand (field numbers
/// from `etcdserverpb/rpc.proto` and `mvccpb/kv.proto`, the same in 3.4 and later).
///
/// By hand because it is four messages (the request, the response, its header, a key-value) of
/// which a list needs a dozen fields; swift-protobuf would bring a runtime, generated code and a
/// protoc step for that. Values are copied straight out of the one answer buffer.
enum RangeProtobuf {
    // RangeRequest
    static let requestKey = 1, requestRangeEnd = 2, requestLimit = 3, requestRevision = 4, requestSerializable = 7
    // RangeResponse
    static let responseHeader = 1, responseKeyValues = 2, responseMore = 3, responseCount = 4
    // ResponseHeader
    static let headerRevision = 3
    // mvccpb.KeyValue
    static let keyValueKey = 1, keyValueCreateRevision = 2, keyValueModRevision = 3, keyValueVersion = 4, keyValueValue = 5

    /// A RangeRequest; zero and empty fields are left out, as proto3 does.
    static func request(key: [UInt8], rangeEnd: [UInt8]?, limit: Int64, revision: Int64, serializable: Bool) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.bytes(requestKey, key)
        if let rangeEnd { writer.bytes(requestRangeEnd, rangeEnd) }
        writer.int64(requestLimit, limit)
        writer.int64(requestRevision, revision)
        writer.bool(requestSerializable, serializable)
        return writer.bytes
    }

    /// Reads a RangeResponse; what does not fit the message is `.malformedResponse`.
    static func response(_ bytes: UnsafeRawBufferPointer) throws(EtcdError) -> EtcdRange {
        var reader = ProtobufReader(bytes)
        var range = EtcdRange(keyValues: [], revision: 0, more: false)
        while let (field, wireType) = try reader.field() {
            switch (field, wireType) {
            case (responseHeader, .lengthDelimited):
                var header = try reader.message()
                while let (field, wireType) = try header.field() {
                    if field == headerRevision, wireType == .varint {
                        range.revision = Int64(bitPattern: try header.varint())
                    } else {
                        try header.skip(wireType, field: field)
                    }
                }
            case (responseKeyValues, .lengthDelimited):
                var message = try reader.message()
                range.keyValues.append(try keyValue(&message))
            case (responseMore, .varint):
                range.more = try reader.varint() != 0
            case (responseCount, .varint):
                range.count = Int(clamping: Int64(bitPattern: try reader.varint()))
            case (responseHeader, _), (responseKeyValues, _), (responseMore, _), (responseCount, _):
                throw ProtobufReader.malformed("field \(field) of a RangeResponse has wire type \(wireType)")
            default:
                try reader.skip(wireType, field: field)
            }
        }
        return range
    }

    private static func keyValue(_ reader: inout ProtobufReader) throws(EtcdError) -> EtcdKeyValue {
        var keyValue = EtcdKeyValue(key: "", value: [])
        while let (field, wireType) = try reader.field() {
            switch (field, wireType) {
            case (keyValueKey, .lengthDelimited):
                keyValue.key = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (keyValueValue, .lengthDelimited):
                keyValue.value = Array(try reader.lengthDelimited())
            case (keyValueCreateRevision, .varint):
                keyValue.createRevision = Int64(bitPattern: try reader.varint())
            case (keyValueModRevision, .varint):
                keyValue.modRevision = Int64(bitPattern: try reader.varint())
            case (keyValueVersion, .varint):
                keyValue.version = Int64(bitPattern: try reader.varint())
            case (keyValueKey, _), (keyValueValue, _), (keyValueCreateRevision, _), (keyValueModRevision, _), (keyValueVersion, _):
                throw ProtobufReader.malformed("field \(field) of a KeyValue has wire type \(wireType)")
            default:
                try reader.skip(wireType, field: field)
            }
        }
        return keyValue
    }
}

enum ProtobufWireType: UInt8, CustomStringConvertible {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5

    var description: String { "\(rawValue)" }
}

/// Appends protobuf fields to a byte array.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func tag(_ field: Int, _ wireType: ProtobufWireType) {
        varint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes += value
    }

    /// An int64 (a negative one takes ten bytes, as protobuf has it).
    mutating func int64(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        guard value else { return }
        tag(field, .varint)
        varint(1)
    }
}

/// Reads protobuf fields from a buffer, checking every length against what is left of it.
struct ProtobufReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset: Int
    private let end: Int

    init(_ bytes: UnsafeRawBufferPointer) {
        self.init(bytes, from: 0, to: bytes.count)
    }

    private init(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        self.bytes = bytes
        self.offset = start
        self.end = end
    }

    static func malformed(_ what: String) -> EtcdError {
        EtcdError(.malformedResponse, "protobuf: \(what)")
    }

    /// The next field's number and wire type; nil at the end of the message.
    mutating func field() throws(EtcdError) -> (Int, ProtobufWireType)? {
        guard offset < end else { return nil }
        let tag = try varint()
        guard let wireType = ProtobufWireType(rawValue: UInt8(tag & 7)) else {
            throw Self.malformed("wire type \(tag & 7) at byte \(offset)")
        }
        let field = tag >> 3
        guard field > 0, field <= 536_870_911 else { throw Self.malformed("field number \(field) at byte \(offset)") }
        return (Int(field), wireType)
    }

    mutating func varint() throws(EtcdError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw Self.malformed("a varint runs past the end") }
            let byte = bytes[offset]
            offset += 1
            guard shift < 64 else { throw Self.malformed("a varint is longer than ten bytes") }
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    /// A length-delimited field's contents, a view of the buffer.
    mutating func lengthDelimited() throws(EtcdError) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[try delimited("a length")])
    }

    /// A length-delimited field as a reader of its own (an embedded message).
    mutating func message() throws(EtcdError) -> ProtobufReader {
        let range = try delimited("a message length")
        return ProtobufReader(bytes, from: range.lowerBound, to: range.upperBound)
    }

    /// Reads a length and steps over that many bytes, which must be there; returns where they are.
    private mutating func delimited(_ what: String) throws(EtcdError) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - offset) else {
            throw Self.malformed("\(what) of \(length) at byte \(offset) runs past the end (\(end - offset) left)")
        }
        let start = offset
        offset += Int(length)
        return start..<offset
    }

    /// Skips a field of any wire type, groups (proto2, never sent by etcd) included.
    mutating func skip(_ wireType: ProtobufWireType, field: Int, depth: Int = 0) throws(EtcdError) {
        switch wireType {
        case .varint:
            _ = try varint()
        case .fixed64:
            try advance(8)
        case .fixed32:
            try advance(4)
        case .lengthDelimited:
            _ = try lengthDelimited()
        case .startGroup:
            guard depth < 32 else { throw Self.malformed("groups nested deeper than 32") }
            while true {
                guard let (inner, innerType) = try self.field() else { throw Self.malformed("group \(field) has no end") }
                if innerType == .endGroup {
                    guard inner == field else { throw Self.malformed("group \(field) ended as \(inner)") }
                    return
                }
                try skip(innerType, field: inner, depth: depth + 1)
            }
        case .endGroup:
            throw Self.malformed("an end of group \(field) without its start")
        }
    }

    private mutating func advance(_ count: Int) throws(EtcdError) {
        guard count <= end - offset else { throw Self.malformed("a fixed-size field runs past the end") }
        offset += count
    }
}
