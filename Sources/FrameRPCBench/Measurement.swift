#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// MARK: Clocks

/// Nanoseconds on the monotonic clock (the one NIO's `NIODeadline` uses).
@inline(__always)
func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sleeps until the monotonic clock reads at least `deadline`.
func sleepUntil(nanos deadline: UInt64) async throws {
    while true {
        let now = nowNanos()
        guard now < deadline else { return }
        try await Task.sleep(nanoseconds: deadline - now)
    }
}

// MARK: CPU time

/// CPU time (user + system) of this process, in nanoseconds, from `getrusage`.
func selfCPUNanos() -> Int64 {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func nanos(_ tv: timeval) -> Int64 { Int64(tv.tv_sec) * 1_000_000_000 + Int64(tv.tv_usec) * 1_000 }
    return nanos(usage.ru_utime) + nanos(usage.ru_stime)
}

private let clockTicksPerSecond: Int64 = {
    let ticks = sysconf(Int32(_SC_CLK_TCK))
    return ticks > 0 ? Int64(ticks) : 100
}()

/// CPU time (utime + stime) of another process, in nanoseconds, from
/// `/proc/<pid>/stat`; `nil` if it cannot be read (not Linux, process gone).
func processCPUNanos(pid: Int32) -> Int64? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
    // "pid (comm) state ppid ..."; comm may contain spaces and parentheses,
    // so split after the last ')'. Fields from there: 3 = state, ..., 14 = utime, 15 = stime.
    guard let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    guard fields.count > 12, let utime = Int64(fields[11]), let stime = Int64(fields[12]) else { return nil }
    return (utime + stime) * 1_000_000_000 / clockTicksPerSecond
}

/// CPU time of the whole machine (all processors) from the first line of
/// `/proc/stat`, in nanoseconds: `busy` is every state but idle, iowait and
/// steal; `steal` is time the hypervisor gave to other virtual machines.
func machineCPUNanos() -> (busy: Int64, steal: Int64)? {
    guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
    else { return nil }
    // cpu user nice system idle iowait irq softirq steal guest guest_nice;
    // guest time is already counted in user and nice.
    let ticks = line.split(separator: " ").dropFirst().prefix(8).compactMap { Int64($0) }
    guard ticks.count == 8 else { return nil }
    let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
    return (busy * 1_000_000_000 / clockTicksPerSecond, ticks[7] * 1_000_000_000 / clockTicksPerSecond)
}

/// One reading of wall clock and CPU clocks.
struct CPUSnapshot: Sendable {
    let wallNanos: UInt64
    let clientCPUNanos: Int64
    let serverCPUNanos: Int64?
    let machineBusyNanos: Int64?
    let machineStealNanos: Int64?

    static func take(serverPID: Int32?) -> CPUSnapshot {
        let client = selfCPUNanos()
        let server = serverPID.flatMap { processCPUNanos(pid: $0) }
        let machine = machineCPUNanos()
        return CPUSnapshot(
            wallNanos: nowNanos(), clientCPUNanos: client, serverCPUNanos: server,
            machineBusyNanos: machine?.busy, machineStealNanos: machine?.steal
        )
    }
}

/// CPU used over a measured interval: how many CPU-nanoseconds per
/// wall-nanosecond each side burned.
struct CPUUsage: Sendable {
    let clientRate: Double
    let serverRate: Double?
    /// Processors' worth of CPU used by everything else on the machine
    /// (other processes, interrupts): a check that the run had the machine
    /// to itself. `nil` without `/proc/stat` or the server's figure.
    let otherRate: Double?
    /// Processors' worth of time the hypervisor ran other machines instead.
    let stealRate: Double?

    init(from start: CPUSnapshot, to end: CPUSnapshot) {
        let wall = Double(end.wallNanos - start.wallNanos)
        clientRate = Double(end.clientCPUNanos - start.clientCPUNanos) / wall
        if let s0 = start.serverCPUNanos, let s1 = end.serverCPUNanos {
            serverRate = Double(s1 - s0) / wall
        } else {
            serverRate = nil
        }
        if let m0 = start.machineBusyNanos, let m1 = end.machineBusyNanos, let serverRate {
            // Tick-granular sources: clamp the rounding noise at zero.
            otherRate = max(0, Double(m1 - m0) / wall - clientRate - serverRate)
        } else {
            otherRate = nil
        }
        if let s0 = start.machineStealNanos, let s1 = end.machineStealNanos {
            stealRate = Double(s1 - s0) / wall
        } else {
            stealRate = nil
        }
    }
}

/// Takes a CPU snapshot at the start and at the end of the timed window.
/// The snapshots are taken when the sleeping task actually wakes, and their
/// own timestamps are used, so a late wake-up skews nothing.
func measureCPU(window: TimedWindow, serverPID: Int32?) async throws -> CPUUsage {
    try await sleepUntil(nanos: window.start)
    let start = CPUSnapshot.take(serverPID: serverPID)
    try await sleepUntil(nanos: window.end)
    let end = CPUSnapshot.take(serverPID: serverPID)
    return CPUUsage(from: start, to: end)
}

// MARK: The timed window

/// The measured interval, in monotonic nanoseconds: load runs from `begin`,
/// calls completing in `start..<end` are counted.
struct TimedWindow: Sendable {
    let begin: UInt64
    let start: UInt64
    let end: UInt64

    init(warmup: Double, duration: Double) {
        begin = nowNanos()
        start = begin + UInt64(warmup * 1e9)
        end = start + UInt64(duration * 1e9)
    }

    var seconds: Double { Double(end - start) / 1e9 }

    @inline(__always)
    func contains(_ t: UInt64) -> Bool { t >= start && t < end }
}

/// What the load generator of one run saw in the timed window.
struct LoadSample: Sendable {
    /// Latency of each call completed in the window, nanoseconds.
    var latencies: [Int64]
    /// Calls that failed or returned the wrong bytes (whole run, not only the window).
    var errors: Int
}

// MARK: Results

enum SystemKind: String, Codable, Sendable, CaseIterable {
    /// The floor: raw SwiftNIO length-prefixed echo.
    case raw
    /// FrameRPC's server and client.
    case framerpc
    /// FrameRPC's server and client, the calling tasks on the client's
    /// event loop (``RPCClient/callerExecutor``): no hop per call between
    /// the global pool and the loop.
    case framerpcLoop = "framerpc-loop"
    /// FrameRPC's server and client over mutual TLS 1.3.
    case framerpcTLS = "framerpc-mtls"
    /// Diagnostic: FrameRPC's server, driven by an event-loop client (HalfSystems.swift).
    case rpcServer = "rpc-server"
    /// Diagnostic: FrameRPC's client, against an event-loop server (HalfSystems.swift).
    case rpcClient = "rpc-client"

    var label: String {
        switch self {
        case .raw: "raw floor"
        case .framerpc: "FrameRPC"
        case .framerpcLoop: "FrameRPC, calls on the loop"
        case .framerpcTLS: "FrameRPC mTLS"
        case .rpcServer: "FrameRPC server only"
        case .rpcClient: "FrameRPC client only"
        }
    }
}

struct RunResult: Encodable, Sendable {
    let system: SystemKind
    let concurrency: Int
    let calls: Int
    let errors: Int
    let windowSeconds: Double
    let callsPerSecond: Double
    let p50Micros: Double
    let p99Micros: Double
    let p999Micros: Double
    let maxMicros: Double
    /// Client plus server CPU time per call; `nil` if the server's could not be read.
    let cpuMicrosPerCall: Double?
    let clientCPUMicrosPerCall: Double
    let serverCPUMicrosPerCall: Double?
    /// Processors busy with other work during the window (see ``CPUUsage/otherRate``).
    let otherProcessorsBusy: Double?
    /// Processors stolen by the hypervisor during the window (see ``CPUUsage/stealRate``).
    let stolenProcessors: Double?
    /// Which attempt this is (runs disturbed by other load may be repeated).
    var attempts = 1

    /// How disturbed the run was: processors' worth of other processes and steal.
    var disturbance: Double { (otherProcessorsBusy ?? 0) + (stolenProcessors ?? 0) }

    enum CodingKeys: String, CodingKey {
        case system, concurrency, calls, errors
        case windowSeconds = "window_seconds"
        case callsPerSecond = "calls_per_second"
        case p50Micros = "p50_us"
        case p99Micros = "p99_us"
        case p999Micros = "p999_us"
        case maxMicros = "max_us"
        case cpuMicrosPerCall = "cpu_us_per_call"
        case clientCPUMicrosPerCall = "client_cpu_us_per_call"
        case serverCPUMicrosPerCall = "server_cpu_us_per_call"
        case otherProcessorsBusy = "other_processes_cpus_busy"
        case stolenProcessors = "hypervisor_steal_cpus"
        case attempts
    }

    init(system: SystemKind, concurrency: Int, window: TimedWindow, sample: LoadSample, cpu: CPUUsage) throws {
        var latencies = sample.latencies
        guard !latencies.isEmpty else {
            throw BenchError("\(system.label) at concurrency \(concurrency): no call completed in the timed window (\(sample.errors) errors)")
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            // Nearest rank: the smallest value with at least p of the samples at or below it.
            let rank = Int((p * Double(latencies.count)).rounded(.up))
            return Double(latencies[min(max(rank, 1), latencies.count) - 1]) / 1_000
        }
        self.system = system
        self.concurrency = concurrency
        self.calls = latencies.count
        self.errors = sample.errors
        self.windowSeconds = window.seconds
        self.callsPerSecond = Double(latencies.count) / window.seconds
        self.p50Micros = percentile(0.50)
        self.p99Micros = percentile(0.99)
        self.p999Micros = percentile(0.999)
        self.maxMicros = Double(latencies.last!) / 1_000
        // CPU-seconds per second divided by calls per second.
        let rate = callsPerSecond
        let client = cpu.clientRate / rate * 1e6
        let server = cpu.serverRate.map { $0 / rate * 1e6 }
        self.clientCPUMicrosPerCall = client
        self.serverCPUMicrosPerCall = server
        self.cpuMicrosPerCall = server.map { $0 + client }
        self.otherProcessorsBusy = cpu.otherRate
        self.stolenProcessors = cpu.stealRate
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
