import Foundation

/// `kubernetes-validate` (PyPI), the Kubernetes API's published schemas
/// as a command: run strict, so an unknown or misspelt field fails it.
enum SchemaValidator {
    /// The command on the PATH, or `nil` when it is not installed.
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":")
            .map { "\($0)/kubernetes-validate" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Validates `files` (relative to the repository root) in one run: its
    /// exit status and everything it printed.
    static func validate(_ files: [String]) async throws -> (status: Int32, output: String) {
        guard let executable else { throw RepositoryError("kubernetes-validate is not installed") }
        // Waiting for it blocks: on a thread of its own, not the test's
        // cooperative pool.
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = ["--strict", "--quiet"] + files
                process.currentDirectoryURL = Repository.root
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            }
        }
    }
}
