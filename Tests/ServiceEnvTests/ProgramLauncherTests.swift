import Foundation
import ServiceEnv
import Testing

/// Finding the program to exec the way `execvp` does (the exec itself is covered end to end).
@Suite struct ProgramLauncherTests {
    @Test func aNameWithASlashIsUsedAsGiven() {
        #expect(ProgramLauncher.resolve("./my-app", searchPath: "/bin") == "./my-app")
        #expect(ProgramLauncher.resolve("/no/such/program", searchPath: "/bin") == "/no/such/program")
    }

    @Test func aBareNameIsSearchedInPathInOrder() throws {
        let directory = try TemporaryDirectory()
        let first = directory.url.appendingPathComponent("first").path
        let second = directory.url.appendingPathComponent("second").path
        try directory.makeDirectory("first")
        try directory.makeDirectory("second")
        try directory.makeFile("second/tool", mode: 0o755)
        try directory.makeFile("first/tool", mode: 0o644)  // not executable: skipped
        #expect(ProgramLauncher.resolve("tool", searchPath: "\(first):\(second)") == "\(second)/tool")
        try directory.makeDirectory("first/dir")
        #expect(ProgramLauncher.resolve("dir", searchPath: first) == nil, "directories are not programs")
    }

    @Test func anEmptyPathEntryDoesNotStopTheSearch() {
        #expect(ProgramLauncher.resolve("sh", searchPath: "::/bin") == "/bin/sh")
    }

    @Test func anUnsetPathSearchesTheSystemDefault() {
        #expect(ProgramLauncher.resolve("sh", searchPath: nil) == "/bin/sh")
    }

    @Test func anUnknownProgramIsNotFound() {
        #expect(ProgramLauncher.resolve("no-such-program-clusterdns", searchPath: "/bin:/usr/bin") == nil)
        #expect(ProgramLauncher.resolve("", searchPath: "/bin") == nil)
    }

    @Test func theCurrentEnvironmentIsReadFromEnviron() {
        let current = ProgramLauncher.currentEnvironment()
        #expect(current.first { $0.name == "PATH" }?.value == ProcessInfo.processInfo.environment["PATH"])
    }
}

/// A directory under /tmp removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("serviceenv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(at: url.appendingPathComponent(path), withIntermediateDirectories: true)
    }

    func makeFile(_ path: String, mode: Int) throws {
        let file = url.appendingPathComponent(path).path
        guard FileManager.default.createFile(atPath: file, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown)
        }
    }
}
