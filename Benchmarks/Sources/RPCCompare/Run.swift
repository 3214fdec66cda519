import ArgumentParser
import Foundation

/// The parent: runs every point, each against a fresh server child and a
/// fresh client child, and prints the report.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run every point and print the report (the default).")

    @Option(help: "Seconds measured per point.")
    var duration = 3.0

    @Option(help: "Seconds of load before each measured window (not measured).")
    var warmup = 1.0

    @Flag(help: "A smoke run: 1 s per point, c=16 on one connection only.")
    var quick = false

    @Option(parsing: .upToNextOption, help: "Systems: floor framerpc grpc framerpc-mtls grpc-mtls.")
    var systems: [System] = System.allCases

    @Option(name: .customLong("payload-sizes"), parsing: .upToNextOption, help: "Payload sizes in bytes.")
    var payloadSizes = [100, 10_240]

    @Option(parsing: .upToNextOption, help: "Calls in flight in all (spread over the connections).")
    var concurrency = [1, 16, 256]

    @Option(parsing: .upToNextOption, help: "Connection counts. A count above the concurrency is skipped (it would leave connections idle).")
    var connections = [1, 4]

    @Option(help: "Address the servers bind and the clients connect to.")
    var host = "127.0.0.1"

    @Option(help: "Also write the rows as JSON to this file (for plot.py).")
    var json: String?

    func validate() throws {
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be > 0, --warmup >= 0") }
        guard concurrency.allSatisfy({ (1...10_000).contains($0) }), connections.allSatisfy({ (1...64).contains($0) }) else {
            throw ValidationError("--concurrency 1...10000, --connections 1...64")
        }
        guard payloadSizes.allSatisfy({ (1...(1 << 20)).contains($0) }) else { throw ValidationError("--payload-sizes 1...1048576") }
    }

    func run() throws {
        if buildMode != "release" {
            printError("warning: this is a \(buildMode) build; measure with `swift build -c release`")
        }
        let duration = quick ? 1.0 : self.duration
        let warmup = quick ? 0.5 : self.warmup
        let levels = quick ? [16] : concurrency
        let counts = quick ? [1] : connections
        let certificates = try BenchCertificates.make()
        defer { certificates.remove() }

        var points: [Point] = []
        for size in payloadSizes {
            for level in levels {
                for count in counts where count <= level {
                    for system in systems {
                        points.append(Point(system: system, payloadBytes: size, concurrency: level, connections: count))
                    }
                }
            }
        }
        let perPoint = warmup + duration + 1
        printError("\(points.count) points, about \(Int((Double(points.count) * perPoint / 60).rounded(.up))) min")
        let started = Date()
        var rows: [Row] = []
        for (index, point) in points.enumerated() {
            printError("[\(index + 1)/\(points.count)] \(point.description)...")
            let row = PointRunner(point: point, host: host, warmup: warmup, duration: duration, certificates: certificates).run()
            if let failure = row.failure { printError("  \(row.calls == 0 ? "failed" : "warning"): \(failure)") }
            rows.append(row)
        }
        let report = Report(
            build: buildMode, durationSeconds: duration, warmupSeconds: warmup,
            processors: ProcessInfo.processInfo.activeProcessorCount,
            started: started, rows: rows
        )
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
        print(report.text())
    }
}

/// One point: a server child, a client child over a window the parent
/// chose, and the server's CPU over that window (asked for at its edges).
struct PointRunner {
    let point: Point
    let host: String
    let warmup: Double
    let duration: Double
    let certificates: BenchCertificates

    private var tlsArguments: [String] { point.system.usesTLS ? ["--tls-dir", certificates.directory] : [] }

    func run() -> Row {
        let server: ChildProcess
        do {
            server = try ChildProcess(label: "\(point.system.rawValue) server", arguments: [
                "serve", "--system", point.system.rawValue, "--host", host,
            ] + tlsArguments)
        } catch {
            return .failed(point, "could not start the server: \(error)")
        }
        defer { server.stop() }
        do {
            let line = try server.readLine(until: nowNanos() + 30_000_000_000)
            guard line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
                return .failed(point, "server said \(line.debugDescription) instead of its port")
            }
            return try measure(server: server, port: port)
        } catch {
            return .failed(point, "\(error)")
        }
    }

    private func measure(server: ChildProcess, port: Int) throws -> Row {
        // Half a second for the client child to start and connect, then
        // the warm-up, then the window.
        let start = nowNanos() + UInt64((0.5 + warmup) * 1e9)
        let end = start + UInt64(duration * 1e9)
        let client = try ChildProcess(label: "\(point.system.rawValue) client", arguments: [
            "drive", "--system", point.system.rawValue, "--host", host, "--port", "\(port)",
            "--payload-size", "\(point.payloadBytes)", "--concurrency", "\(point.concurrency)",
            "--connections", "\(point.connections)", "--window-start", "\(start)", "--window-end", "\(end)",
        ] + tlsArguments)
        defer { client.stop() }

        blockUntil(nanos: start)
        let machine0 = machineCPUNanos()
        let wall0 = nowNanos()
        let server0 = try usage(of: server)
        blockUntil(nanos: end)
        let machine1 = machineCPUNanos()
        let wall1 = nowNanos()
        let server1 = try usage(of: server)

        let line = try client.readLine(until: end + 60_000_000_000)
        let result = try JSONDecoder().decode(DriveResult.self, from: Data(line.utf8))
        let seconds = Double(end - start) / 1e9
        let rate = Double(result.calls) / seconds
        let serverRate = Double(server1.cpuNanos - server0.cpuNanos) / Double(wall1 - wall0)
        let clientRate = Double(result.cpuNanos) / Double(max(result.cpuWallNanos, 1))
        var other: Double?
        if let machine0, let machine1 {
            let busy = Double((machine1.busy - machine0.busy) + (machine1.steal - machine0.steal)) / Double(wall1 - wall0)
            // Tick-granular sources: clamp the rounding noise at zero.
            other = max(0, busy - serverRate - clientRate)
        }
        var failure: String?
        if result.calls == 0 {
            failure = "no call completed in the window (\(result.errors) errors; last: \(result.lastError ?? "none"))"
        } else if result.errors > 0 {
            failure = "\(result.errors) calls failed; last: \(result.lastError ?? "?")"
        }
        return Row(
            point: point, calls: result.calls, errors: result.errors, callsPerSecond: rate, latency: result.latency,
            clientCPUMicrosPerCall: rate > 0 ? clientRate / rate * 1e6 : nil,
            serverCPUMicrosPerCall: rate > 0 ? serverRate / rate * 1e6 : nil,
            clientPeakRSSBytes: result.peakRSSBytes, serverPeakRSSBytes: server1.peakRSSBytes,
            otherProcessors: other, failure: failure
        )
    }

    private func usage(of server: ChildProcess) throws -> ProcessUsage {
        server.send("USAGE")
        let line = try server.readLine(until: nowNanos() + 10_000_000_000)
        guard let usage = ProcessUsage(line: line) else { throw BenchError("server answered \(line.debugDescription) to USAGE") }
        return usage
    }
}
