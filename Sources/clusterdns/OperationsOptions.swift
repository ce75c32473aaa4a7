import ArgumentParser
import DNSServer

/// `serve`'s operations flags: the HTTP listener for probes and metrics, and the lameduck period.
struct OperationsOptions: ParsableArguments {
    @Option(name: .customLong("http-listen"), help: "Serve /metrics, /health and /ready over HTTP on HOST:PORT (port 0 picks one and logs it). Default: off.")
    var httpListen: String?

    @Option(help: "Seconds to keep answering after SIGTERM or SIGINT, with /ready already failing, so clients move away before the server stops.")
    var lameduck: Double = 5

    func validate() throws {
        if let httpListen, ListenAddress(httpListen) == nil {
            throw ValidationError("--http-listen \(httpListen) is not HOST:PORT (for example 127.0.0.1:9153)")
        }
        guard lameduck >= 0, lameduck <= 300 else { throw ValidationError("--lameduck must be between 0 and 300 seconds") }
    }
}
