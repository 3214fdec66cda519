#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds on the monotonic clock. The clock is the machine's, not the
/// process's, so the parent and its children agree on the measured window.
@inline(__always)
func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sleeps the task until the monotonic clock reads at least `deadline`.
func sleepUntil(nanos deadline: UInt64) async throws {
    while true {
        let now = nowNanos()
        guard now < deadline else { return }
        try await Task.sleep(nanoseconds: deadline - now)
    }
}

/// Blocks the thread until the monotonic clock reads at least `deadline`
/// (the orchestrating parent has nothing else to do meanwhile).
func blockUntil(nanos deadline: UInt64) {
    while true {
        let now = nowNanos()
        guard now < deadline else { return }
        let wait = deadline - now
        var ts = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
        nanosleep(&ts, nil)
    }
}

/// The measured window, in monotonic nanoseconds, chosen by the parent and
/// handed to the client child: calls completing in `start..<end` count, and
/// load stops at `end`.
struct TimedWindow: Sendable, Codable {
    let start: UInt64
    let end: UInt64

    var seconds: Double { Double(end - start) / 1e9 }

    @inline(__always)
    func contains(_ t: UInt64) -> Bool { t >= start && t < end }
}

/// What `getrusage(RUSAGE_SELF)` says of this process: CPU time (user plus
/// system) and the peak resident set size of its whole life.
struct ProcessUsage: Sendable, Codable {
    let cpuNanos: Int64
    let peakRSSBytes: Int64

    static func current() -> ProcessUsage {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func nanos(_ tv: timeval) -> Int64 { Int64(tv.tv_sec) * 1_000_000_000 + Int64(tv.tv_usec) * 1_000 }
        #if os(Linux)
        let rssBytes = Int64(usage.ru_maxrss) * 1024 // kilobytes on Linux
        #else
        let rssBytes = Int64(usage.ru_maxrss) // bytes on Darwin
        #endif
        return ProcessUsage(cpuNanos: nanos(usage.ru_utime) + nanos(usage.ru_stime), peakRSSBytes: rssBytes)
    }

    /// One line of the server child's answer to `USAGE`.
    var line: String { "USAGE \(cpuNanos) \(peakRSSBytes)" }

    init(cpuNanos: Int64, peakRSSBytes: Int64) {
        self.cpuNanos = cpuNanos
        self.peakRSSBytes = peakRSSBytes
    }

    init?(line: String) {
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[0] == "USAGE", let cpu = Int64(parts[1]), let rss = Int64(parts[2]) else { return nil }
        self.init(cpuNanos: cpu, peakRSSBytes: rss)
    }
}

private let clockTicksPerSecond: Int64 = {
    let ticks = sysconf(Int32(_SC_CLK_TCK))
    return ticks > 0 ? Int64(ticks) : 100
}()

/// CPU time of the whole machine (all processors, every state but idle,
/// iowait and steal) and the hypervisor's steal, from `/proc/stat`, in
/// nanoseconds; `nil` off Linux. Tells how much else ran during a window.
func machineCPUNanos() -> (busy: Int64, steal: Int64)? {
    guard let file = fopen("/proc/stat", "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 512)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
    let line = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard line.hasPrefix("cpu ") else { return nil }
    // cpu user nice system idle iowait irq softirq steal ...
    let ticks = line.split(whereSeparator: { $0 == " " || $0 == "\n" }).dropFirst().prefix(8).compactMap { Int64($0) }
    guard ticks.count == 8 else { return nil }
    let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
    return (busy * 1_000_000_000 / clockTicksPerSecond, ticks[7] * 1_000_000_000 / clockTicksPerSecond)
}
