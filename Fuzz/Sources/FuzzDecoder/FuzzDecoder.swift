import DNSWire
import FuzzSupport

/// The strict decoder and the in-place query view on arbitrary bytes: neither may crash, what the
/// decoder accepts must re-encode to a message that decodes to itself, and whatever the view reads
/// the decoder must read the same way (one definition of a valid query).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: count)
    let message = try? DNSMessageDecoder.decode(bytes: Array(bytes))
    if let message {
        let again = try? DNSMessageDecoder.decode(bytes: DNSMessageEncoder.encode(message))
        precondition(again != nil, "a decoded message did not decode again after encoding")
    }
    for transport in [DNSTransport.udp, .tcp] {
        guard let view = DNSQueryView(bytes, transport: transport) else { continue }
        guard let message, let question = message.questions.first else {
            preconditionFailure("the view read a query the strict decoder rejects")
        }
        precondition(message.questions.count == 1 && message.answers.isEmpty && message.authority.isEmpty && message.additional.isEmpty)
        precondition(view.nameEnd == 12 + question.name.wire.count && view.type == question.type.rawValue && view.class == question.class.rawValue)
        precondition(view.hasEDNS == (message.edns != nil) && (message.edns?.version ?? 0) == 0)
        precondition(view.maxSize == transport.responseLimit(clientPayloadSize: message.edns?.udpPayloadSize))
    }
    return 0
}

@_cdecl("FuzzDecoder_main")
public func fuzzDecoderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzDecoder)
}
