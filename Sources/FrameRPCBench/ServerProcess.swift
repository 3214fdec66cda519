import Foundation

/// Writes a line to standard error, unbuffered.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// The server side of a run: this same executable, started as
/// `framerpc-bench serve --kind <kind>` in its own process.
///
/// The child prints `PORT <n>` on standard output once it listens; it exits
/// when its standard input closes (so it never outlives the parent) or on
/// SIGTERM. Its standard error goes to a temporary file, shown only if it
/// fails, so server logs do not mix with the report.
final class ServerProcess {
    let kind: SystemKind
    let port: Int
    private let process: Process
    private let stdinPipe: Pipe
    private let logURL: URL

    var pid: Int32 { process.processIdentifier }

    private init(kind: SystemKind, port: Int, process: Process, stdinPipe: Pipe, logURL: URL) {
        self.kind = kind
        self.port = port
        self.process = process
        self.stdinPipe = stdinPipe
        self.logURL = logURL
    }

    static func start(kind: SystemKind, host: String, nioExecutor: Bool, tlsDirectory: String? = nil) async throws -> ServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath())
        process.arguments = ["serve", "--kind", kind.rawValue, "--host", host, "--exit-on-stdin-eof"]
            + (nioExecutor ? ["--nio-executor"] : [])
            + (kind == .framerpcTLS ? ["--tls-dir", tlsDirectory ?? ""] : [])
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        let logURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("framerpc-bench-\(kind.rawValue)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = log
        try process.run()
        try? log.close()

        let reader = stdoutPipe.fileHandleForReading
        let port: Int
        do {
            port = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask { try await readPort(from: reader) }
                group.addTask {
                    try await Task.sleep(for: .seconds(30))
                    throw BenchError("\(kind.rawValue) server did not report its port within 30 s")
                }
                defer { group.cancelAll() }
                do {
                    return try await group.next()!
                } catch {
                    // Unblocks the reader (EOF) so the group can finish.
                    process.terminate()
                    throw error
                }
            }
        } catch {
            process.waitUntilExit()
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: logURL)
            throw BenchError("\(error)\n--- server stderr ---\n\(log.suffix(4_000))")
        }
        return ServerProcess(kind: kind, port: port, process: process, stdinPipe: stdinPipe, logURL: logURL)
    }

    /// Ends the child (closing its stdin, then SIGTERM) and waits for it.
    /// Throws, with the child's log, if it had died before.
    func stop() throws {
        let diedEarly = !process.isRunning
        try? stdinPipe.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: logURL)
        if diedEarly {
            throw BenchError("\(kind.rawValue) server exited early (status \(process.terminationStatus))\n--- server stderr ---\n\(log.suffix(4_000))")
        }
    }

    /// The path of this executable, to start it again as the server.
    private static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return path
        }
        let argv0 = CommandLine.arguments[0]
        if argv0.contains("/") {
            return URL(fileURLWithPath: argv0).standardizedFileURL.path
        }
        return Bundle.main.executablePath ?? argv0
    }

    /// Reads the child's stdout on a thread of its own until the `PORT <n>`
    /// line, then keeps draining it until EOF so the child never blocks on a
    /// full pipe.
    private static func readPort(from handle: FileHandle) async throws -> Int {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            Thread.detachNewThread {
                var pending = Data()
                var found = false
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    guard !found else { continue }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                        pending.removeSubrange(pending.startIndex...newline)
                        if line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) {
                            found = true
                            continuation.resume(returning: port)
                            break
                        }
                    }
                }
                if !found {
                    continuation.resume(throwing: BenchError("server closed its output before reporting a port"))
                }
            }
        }
    }
}
