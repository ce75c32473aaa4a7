import CLDNS
import DNSWire

#if canImport(Glibc)
import Glibc
#endif

extension StaticZone {
    /// Reads the master file at `path` with libldns (`$ORIGIN`, `$TTL`, parentheses, escapes and
    /// every record type are its to parse), names relative to `origin` until a `$ORIGIN` says
    /// otherwise. A syntax error comes back with the file and the line libldns stopped at.
    public static func load(file path: String, origin: DNSName) throws(StaticZoneError) -> StaticZone {
        guard let stream = fopen(path, "r") else {
            throw StaticZoneError(file: path, reason: "cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { fclose(stream) }
        return try parse(stream, origin: origin, file: path)
    }

    /// `load` for master-file text held in memory (tests, and `check` of text it was handed);
    /// `file` names it in errors.
    public static func parse(text: String, origin: DNSName, file: String) throws(StaticZoneError) -> StaticZone {
        // fmemopen of zero bytes fails; a lone newline is the same empty file. The text is copied
        // to memory of its own, which stays where it is until the stream is closed.
        let bytes = Array((text.isEmpty ? "\n" : text).utf8)
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { memory.deallocate() }
        memory.copyBytes(from: bytes)
        guard let stream = fmemopen(memory.baseAddress, memory.count, "r") else {
            throw StaticZoneError(file: file, reason: "cannot be read from memory")
        }
        defer { fclose(stream) }
        return try parse(stream, origin: origin, file: file)
    }

    private static func parse(_ stream: UnsafeMutablePointer<FILE>, origin: DNSName, file: String) throws(StaticZoneError) -> StaticZone {
        guard let originData = ldns_dname_new_frm_str(origin.description) else {
            throw StaticZoneError(file: file, reason: "the origin \(origin) is not a name libldns accepts")
        }
        defer { ldns_rdf_deep_free(originData) }
        var parsed: UnsafeMutablePointer<ldns_zone>? = nil
        var line: Int32 = 0
        let status = ldns_zone_new_frm_fp_l(&parsed, stream, originData, 0, LDNS_RR_CLASS_IN, &line)
        guard status == LDNS_STATUS_OK, let zone = parsed else {
            throw StaticZoneError(file: file, line: Int(line), reason: String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { ldns_zone_deep_free(zone) }
        var records: [ResourceRecord] = []
        if let soa = ldns_zone_soa(zone) { records.append(try record(soa, file: file)) }
        if let list = ldns_zone_rrs(zone) {
            for index in 0..<ldns_rr_list_rr_count(list) {
                guard let rr = ldns_rr_list_rr(list, index) else { continue }
                records.append(try record(rr, file: file))
            }
        }
        return try StaticZone(origin: origin, file: file, records: records)
    }

    /// One record as libldns holds it, made our value through its wire form: libldns writes it,
    /// the server's own decoder reads it, so the records served are exactly what it parsed.
    private static func record(_ rr: UnsafeMutablePointer<ldns_rr>, file: String) throws(StaticZoneError) -> ResourceRecord {
        var wire: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status = ldns_rr2wire(&wire, rr, Int32(LDNS_SECTION_ANSWER.rawValue), &size)
        defer { free(wire) }
        guard status == LDNS_STATUS_OK, let wire else {
            throw StaticZoneError(file: file, reason: "a record libldns parsed cannot be written as wire data: \(String(cString: ldns_get_errorstr_by_id(status)))")
        }
        // A message of one answer record: the decoder's checks then apply to it as to any response.
        var message: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        message.append(contentsOf: UnsafeBufferPointer(start: wire, count: size))
        do {
            guard let record = try DNSMessageDecoder.decode(bytes: message).answers.first else {
                throw StaticZoneError(file: file, reason: "a record libldns parsed was lost on the way")
            }
            return record
        } catch {
            throw StaticZoneError(file: file, reason: "a record libldns parsed is not valid DNS data: \(error)")
        }
    }
}
