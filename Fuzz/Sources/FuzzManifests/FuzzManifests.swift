import FuzzSupport
import ServiceRegistry

/// The manifest loader on arbitrary text, as YAML and as JSON: it must report errors, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifests(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    for name in ["fuzz.yaml", "fuzz.json"] {
        let result = ManifestLoader.load(text: text, name: name)
        _ = result.isValid
        _ = result.report
    }
    return 0
}

@_cdecl("FuzzManifests_main")
public func fuzzManifestsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzManifests)
}
