import Foundation
import ServiceSupport

/// A `shop serve <service>` child process, for tests about processes:
/// crashes (`kill -9`), restarts, signals.
public final class ShopProcess: @unchecked Sendable {
    private let process: Process
    private let output: Pipe
    /// The port it listens on, read from its `ready` line.
    public let port: Int

    private init(process: Process, output: Pipe, port: Int) {
        self.process = process
        self.output = output
        self.port = port
    }

    /// The `shop` executable built beside the test bundle.
    public static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("shop")
    }

    /// Starts `shop serve <service>` and waits for it to say it is ready.
    public static func start(
        service: String,
        dataDirectory: String,
        port: Int = 0,
        upstreams: [String: ServiceEndpoint] = [:],
        settings: [String: String] = [:]
    ) async throws -> ShopProcess {
        let process = Process()
        process.executableURL = executable
        var arguments = ["serve", service, "--port", String(port), "--data", dataDirectory]
        for (name, endpoint) in upstreams.sorted(by: { $0.key < $1.key }) {
            arguments += ["--upstream", "\(name)=\(endpoint.host):\(endpoint.port)"]
        }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in settings { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()

        // The first line is `ready <service> <host>:<port>`. A process that
        // says nothing in 30 s is stopped, which ends the read.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        let line = await readLine(from: output.fileHandleForReading)
        watchdog.cancel()
        guard let line, line.hasPrefix("ready "), let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            if process.isRunning { process.terminate() }
            throw ConfigurationError("shop serve \(service) did not become ready (said: \(line ?? "nothing"))")
        }
        return ShopProcess(process: process, output: output, port: port)
    }

    /// Kills the process with SIGKILL: no chance to flush or drain.
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM and waits for the process to exit; returns its status.
    @discardableResult
    public func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

/// Reads one line from `handle` on a thread of its own (the read blocks),
/// or `nil` at end of file.
private func readLine(from handle: FileHandle) async -> String? {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            var bytes: [UInt8] = []
            while true {
                let chunk = handle.readData(ofLength: 1)
                guard let byte = chunk.first else { break }
                if byte == UInt8(ascii: "\n") { break }
                bytes.append(byte)
            }
            continuation.resume(returning: bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self))
        }
    }
}
