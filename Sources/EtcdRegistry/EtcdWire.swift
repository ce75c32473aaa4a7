import Foundation

// The v3 JSON gateway's shapes (grpc-gateway v1): protobuf field names in snake_case (the coders
// below convert the Swift names), `bytes` in base64, int64 as strings, and every zero or false
// field left out of responses.

enum WireCoding {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

/// An int64 as the gateway writes it: a string, though a number is accepted too.
struct WireInt: Codable, Sendable {
    var value: Int64

    init(_ value: Int64) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), let value = Int64(text) {
            self.value = value
        } else {
            self.value = try container.decode(Int64.self)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(value))
    }
}

enum Base64 {
    static func encode(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
    static func encode(bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
    static func decode(_ text: String?) -> [UInt8]? {
        guard let text else { return [] }
        return Data(base64Encoded: text).map { [UInt8]($0) }
    }
}

struct WireHeader: Decodable, Sendable {
    var revision: WireInt?
}

struct WireKeyValue: Decodable, Sendable {
    var key: String?
    var value: String?
    var createRevision: WireInt?
    var modRevision: WireInt?
    var version: WireInt?


    func decoded() throws(EtcdError) -> EtcdKeyValue {
        guard let keyBytes = Base64.decode(key), let valueBytes = Base64.decode(value) else {
            throw EtcdError(.malformedResponse, "a key or value is not base64")
        }
        return EtcdKeyValue(
            key: String(decoding: keyBytes, as: UTF8.self), value: valueBytes,
            createRevision: createRevision?.value ?? 0, modRevision: modRevision?.value ?? 0, version: version?.value ?? 0)
    }
}

struct WireRangeRequest: Encodable {
    var key: String
    var rangeEnd: String?
    var limit: Int?
    var revision: WireInt?
    var serializable: Bool?
    var keysOnly: Bool?
}

struct WireRangeResponse: Decodable {
    var header: WireHeader?
    var kvs: [WireKeyValue]?
    var more: Bool?
}

struct WirePutRequest: Encodable {
    var key: String
    var value: String
}

struct WireDeleteRequest: Encodable {
    var key: String
    var rangeEnd: String?
}

struct WireRevisionResponse: Decodable {
    var header: WireHeader?
    var deleted: WireInt?
}

struct WireCompare: Encodable {
    var key: String
    var target: String
    var result: String
    var modRevision: WireInt?
    var createRevision: WireInt?
}

struct WireRequestOp: Encodable {
    var requestPut: WirePutRequest?
    var requestDeleteRange: WireDeleteRequest?
    var requestRange: WireRangeRequest?
}

struct WireTxnRequest: Encodable {
    var compare: [WireCompare]
    var success: [WireRequestOp]
    var failure: [WireRequestOp]
}

struct WireTxnResponse: Decodable {
    var header: WireHeader?
    var succeeded: Bool?
    var responses: [WireResponseOp]?
}

struct WireResponseOp: Decodable {
    var responseRange: WireRangeResponse?
}

/// A unary error body: `{"error":"…","message":"…","code":14}`.
struct WireUnaryError: Decodable {
    var error: String?
    var message: String?
    var code: Int?
}

struct WireWatchCreate: Encodable {
    struct Create: Encodable {
        var key: String
        var rangeEnd: String
        var startRevision: WireInt
        var progressNotify: Bool
    }
    var createRequest: Create
}

/// One line of a watch stream: a `result` (a WatchResponse) or a final `error`.
struct WireWatchLine: Decodable {
    struct Result: Decodable {
        var header: WireHeader?
        var created: Bool?
        var canceled: Bool?
        var compactRevision: WireInt?
        var cancelReason: String?
        var events: [WireEvent]?
    }
    struct StreamError: Decodable {
        var grpcCode: Int?
        var httpCode: Int?
        var message: String?
    }
    var result: Result?
    var error: StreamError?
}

struct WireEvent: Decodable {
    var type: String?
    var kv: WireKeyValue?
}
