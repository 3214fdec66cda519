import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error, unbuffered.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// This executable started again as a child (`serve` or `drive`), spoken to
/// by lines: it reads commands on its standard input and answers on its
/// standard output. Its standard error goes to a temporary file, shown only
/// when something fails. Closing its standard input ends a server child.
final class ChildProcess {
    let label: String
    private let process: Process
    private let stdinPipe: Pipe
    private let stdoutFD: Int32
    private let stdoutPipe: Pipe
    private let logURL: URL
    private var pending: [UInt8] = []
    private var sawEOF = false

    var pid: Int32 { process.processIdentifier }

    init(label: String, arguments: [String]) throws {
        self.label = label
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executablePath())
        process.arguments = arguments
        stdinPipe = Pipe()
        stdoutPipe = Pipe()
        stdoutFD = stdoutPipe.fileHandleForReading.fileDescriptor
        logURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("rpc-compare-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = log
        try process.run()
        try? log.close()
    }

    /// Sends one line to the child's standard input.
    func send(_ line: String) {
        try? stdinPipe.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// The next line of the child's standard output; throws on end of file
    /// or when nothing came before `deadline` (monotonic nanoseconds).
    func readLine(until deadline: UInt64) throws -> String {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            if sawEOF { throw BenchError("\(label) closed its output\(failureDetail())") }
            let now = nowNanos()
            guard now < deadline else { throw BenchError("\(label) did not answer in time\(failureDetail())") }
            var fds = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fds, 1, Int32(min(1_000, (deadline - now) / 1_000_000 + 1)))
            guard ready > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = read(stdoutFD, &buffer, buffer.count)
            if count <= 0 {
                sawEOF = true
            } else {
                pending.append(contentsOf: buffer[..<count])
            }
        }
    }

    /// Waits for the child to exit by itself until `deadline`, then ends it.
    /// Returns whether it exited by itself.
    @discardableResult
    func waitForExit(until deadline: UInt64) -> Bool {
        while process.isRunning, nowNanos() < deadline {
            usleep(20_000)
        }
        guard process.isRunning else { return true }
        process.terminate()
        process.waitUntilExit()
        return false
    }

    /// Ends the child (closing its standard input, then SIGTERM) and waits.
    func stop() {
        try? stdinPipe.fileHandleForWriting.close()
        waitForExit(until: nowNanos() + 2_000_000_000)
        try? FileManager.default.removeItem(at: logURL)
    }

    var exitedEarly: Bool { !process.isRunning }

    private func failureDetail() -> String {
        let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        let status = process.isRunning ? "" : " (exit status \(process.terminationStatus))"
        return log.isEmpty ? status : "\(status)\n--- \(label) stderr ---\n\(log.suffix(3_000))"
    }

    /// The path of this executable, to start it again.
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
}
