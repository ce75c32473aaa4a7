#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces this process with a program, the way a container's entrypoint starts: `execve`, so the
/// program gets our PID, our stdio and its signals directly, with no parent left waiting.
public enum ProgramLauncher {
    /// glibc's `execvp` default when `PATH` is unset.
    public static let defaultSearchPath = "/bin:/usr/bin"

    /// This process's environment, in `environ` order; entries without `=` are dropped.
    public static func currentEnvironment() -> [EnvironmentVariable] {
        var variables: [EnvironmentVariable] = []
        var cursor = environ
        while let entry = cursor.pointee {
            if let variable = EnvironmentVariable(environEntry: String(cString: entry)) { variables.append(variable) }
            cursor += 1
        }
        return variables
    }

    /// Finds `program` as `execvp` would: a name with a `/` is used as given, anything else is the
    /// first executable regular file of that name in `searchPath` (an empty entry means `.`).
    public static func resolve(_ program: String, searchPath: String?) -> String? {
        if program.contains("/") { return program }
        guard !program.isEmpty else { return nil }
        for directory in (searchPath ?? defaultSearchPath).split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            var status = stat()
            if stat(candidate, &status) == 0, status.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Runs `arguments[0]` with `arguments` as its argv and exactly `environment`; returns only by throwing.
    /// A file the kernel cannot execute (no `#!`) is run by `/bin/sh`, as `execvp` does.
    public static func exec(_ arguments: [String], environment: [EnvironmentVariable]) throws(ServiceEnvError) -> Never {
        guard let program = arguments.first else {
            throw ServiceEnvError(code: .programNotFound, reason: "no program given after '--'")
        }
        let searchPath = environment.last { $0.name == "PATH" }?.value
        guard let path = resolve(program, searchPath: searchPath) else {
            throw ServiceEnvError(code: .programNotFound, reason: "\(program): command not found")
        }
        let environmentEntries = environment.map(\.description)
        var failure = execute(path, arguments: arguments, environment: environmentEntries)
        if failure == ENOEXEC {
            failure = execute("/bin/sh", arguments: ["sh", path] + arguments.dropFirst(), environment: environmentEntries)
        }
        let message = String(cString: strerror(failure))
        let code: ServiceEnvError.Code = failure == ENOENT ? .programNotFound : .execFailed
        throw ServiceEnvError(code: code, reason: "cannot run \(program): \(message)")
    }

    /// Calls `execve`; on return (failure) gives back `errno`.
    private static func execute(_ path: String, arguments: [String], environment: [String]) -> Int32 {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        execve(path, argv, envp)
        return errno
    }
}
