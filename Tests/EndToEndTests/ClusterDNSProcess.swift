import Foundation

/// Where the built `clusterdns` lives: next to the test bundle, in the same build directory.
enum BuiltProducts {
    static var directory: URL {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent()
    }

    static var clusterdns: String { directory.appendingPathComponent("clusterdns").path }

    /// The checkout's root (for `zones/`).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

struct ProcessFailure: Error, CustomStringConvertible {
    var description: String
}

/// A `clusterdns serve` started on a free loopback port, stopped when the test ends.
final class ClusterDNSServer: @unchecked Sendable {
    let process = Process()
    private let errorPipe = Pipe()
    private let lock = NSLock()
    private var logText = ""
    private(set) var port = 0

    /// Starts the server and waits (at most 30 s) for its "listening on" line.
    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: BuiltProducts.clusterdns)
        process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.logText += String(decoding: data, as: UTF8.self) }
        }
        guard FileManager.default.isExecutableFile(atPath: BuiltProducts.clusterdns) else {
            throw ProcessFailure(description: "\(BuiltProducts.clusterdns) is missing: run `swift build` before `swift test`")
        }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let port = listeningPort() {
                self.port = port
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw ProcessFailure(description: "clusterdns serve did not start listening; its log:\n\(log)")
    }

    var log: String { lock.withLock { logText } }

    private func listeningPort() -> Int? {
        guard let range = log.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) else { return nil }
        return Int(log[range].split(separator: ":").last ?? "")
    }

    /// Waits until the log contains `text`, at most `timeout` seconds.
    func waitForLog(containing text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        errorPipe.fileHandleForReading.readabilityHandler = nil
    }

    deinit { stop() }
}

/// Runs a command to completion (bounded by `timeout`) and returns its exit status and output.
@discardableResult
func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 30, environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
    process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
    if let environment { process.environment = environment }
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes concurrently so a chatty child cannot fill one and block.
    nonisolated(unsafe) var errorData = Data()
    let errorReader = Thread { errorData = errors.fileHandleForReading.readDataToEndOfFile() }
    errorReader.start()
    let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    timer.cancel()
    while errorReader.isExecuting || !errorReader.isFinished { Thread.sleep(forTimeInterval: 0.005) }
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// A temporary registry directory with the given files, removed by the caller.
func makeRegistry(_ files: [String: String]) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, content) in files {
        try content.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return directory
}
