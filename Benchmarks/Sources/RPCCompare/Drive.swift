import ArgumentParser
import Foundation
import Synchronization

/// The client child: drives one server with one system's client over the
/// window the parent chose, then prints one JSON line (``DriveResult``).
struct Drive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drive one server over a given window (a child of `run`).")

    @Option(help: "floor, framerpc, grpc, framerpc-mtls or grpc-mtls.")
    var system: System

    @Option var host = "127.0.0.1"
    @Option var port: Int

    @Option(name: .customLong("payload-size"), help: "Bytes of payload per request (echoed back).")
    var payloadSize = 100

    @Option(help: "Calls in flight in all, spread evenly over the connections.")
    var concurrency = 1

    @Option(help: "Connections to the server.")
    var connections = 1

    @Option(name: .customLong("window-start"), help: "Monotonic nanoseconds: calls completing from here on count.")
    var windowStart: UInt64

    @Option(name: .customLong("window-end"), help: "Monotonic nanoseconds: load stops here.")
    var windowEnd: UInt64

    @Option(name: .customLong("tls-dir"), help: "Folder with the certificates (the mTLS systems).")
    var tlsDirectory: String?

    func validate() throws {
        guard windowEnd > windowStart else { throw ValidationError("--window-end must be after --window-start") }
        guard concurrency >= connections, connections >= 1 else { throw ValidationError("need concurrency >= connections >= 1") }
        guard payloadSize > 0, payloadSize <= 1 << 20 else { throw ValidationError("--payload-size must be 1...1048576") }
    }

    func run() async throws {
        let window = TimedWindow(start: windowStart, end: windowEnd)
        let certificates: BenchCertificates?
        if system.usesTLS {
            guard let tlsDirectory else { throw ValidationError("--system \(system.rawValue) needs --tls-dir") }
            certificates = BenchCertificates(directory: tlsDirectory)
        } else {
            certificates = nil
        }
        // CPU snapshots at the window's edges on a thread of their own, so a
        // busy task pool cannot make them late.
        let snapshots = UsageWindow(window: window)
        let bytes = payload(size: payloadSize)
        let sample: LoadSample
        switch system {
        case .floor:
            sample = try await FloorClient.run(host: host, port: port, payload: bytes, concurrency: concurrency, connections: connections, window: window)
        case .framerpc, .framerpcMTLS:
            sample = try await FrameRPCEcho.load(host: host, port: port, payload: bytes, concurrency: concurrency, connections: connections, window: window, certificates: certificates)
        case .grpc, .grpcMTLS:
            sample = try await GRPCEcho.load(host: host, port: port, payload: bytes, concurrency: concurrency, connections: connections, window: window, certificates: certificates)
        }
        let (start, end) = try await snapshots.wait()
        let result = DriveResult(
            calls: sample.latencies.count,
            errors: sample.errors,
            lastError: sample.lastError,
            latency: Percentiles(nanos: sample.latencies),
            cpuNanos: end.usage.cpuNanos - start.usage.cpuNanos,
            cpuWallNanos: Int64(end.wallNanos - start.wallNanos),
            peakRSSBytes: ProcessUsage.current().peakRSSBytes
        )
        let json = try JSONEncoder().encode(result)
        FileHandle.standardOutput.write(json + Data("\n".utf8))
    }
}

/// What the client child reports to the parent.
struct DriveResult: Codable, Sendable {
    let calls: Int
    let errors: Int
    let lastError: String?
    let latency: Percentiles?
    /// CPU time of the client process between its two snapshots.
    let cpuNanos: Int64
    /// Wall time between the two snapshots.
    let cpuWallNanos: Int64
    let peakRSSBytes: Int64
}

/// Two usage snapshots of this process, taken by a thread of its own at
/// the window's start and end (a busy task pool cannot make them late).
final class UsageWindow: Sendable {
    struct Snapshot: Sendable { let wallNanos: UInt64; let usage: ProcessUsage }

    private let snapshots = Mutex<(start: Snapshot?, end: Snapshot?)>((nil, nil))

    init(window: TimedWindow) {
        Thread.detachNewThread { [self] in
            blockUntil(nanos: window.start)
            let start = Snapshot(wallNanos: nowNanos(), usage: .current())
            self.snapshots.withLock { $0.start = start }
            blockUntil(nanos: window.end)
            let end = Snapshot(wallNanos: nowNanos(), usage: .current())
            self.snapshots.withLock { $0.end = end }
        }
    }

    /// Both snapshots, once the thread took the second.
    func wait() async throws -> (Snapshot, Snapshot) {
        while true {
            let taken = snapshots.withLock { $0 }
            if let start = taken.start, let end = taken.end { return (start, end) }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
    }
}
