/// What the load of one client saw: the latency of every call completed in
/// the window, and the calls that failed or returned wrong bytes.
struct LoadSample: Sendable {
    var latencies: [Int64] = []
    var errors = 0
    /// The last failure, to say why calls failed.
    var lastError: String?

    mutating func merge(_ other: LoadSample) {
        latencies.append(contentsOf: other.latencies)
        errors += other.errors
        lastError = other.lastError ?? lastError
    }
}

/// Latency percentiles of one sample, in microseconds (nearest rank).
struct Percentiles: Sendable, Codable {
    let p50: Double
    let p99: Double
    let p999: Double
    let max: Double

    init?(nanos unsorted: [Int64]) {
        guard !unsorted.isEmpty else { return nil }
        let sorted = unsorted.sorted()
        func at(_ p: Double) -> Double {
            let rank = Int((p * Double(sorted.count)).rounded(.up))
            return Double(sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]) / 1_000
        }
        p50 = at(0.50)
        p99 = at(0.99)
        p999 = at(0.999)
        max = Double(sorted.last!) / 1_000
    }
}

/// The load loop the task-based clients share: `concurrency` tasks, task
/// `i` calling through connection `i % connections`, each calling in a loop
/// until the window ends. `call` returns the response's payload length.
func runTaskLoad(
    concurrency: Int,
    connections: Int,
    expectedBytes: Int,
    window: TimedWindow,
    call: @escaping @Sendable (_ connection: Int) async throws -> Int
) async -> LoadSample {
    await withTaskGroup(of: LoadSample.self) { group in
        for task in 0..<concurrency {
            let connection = task % connections
            group.addTask {
                var sample = LoadSample()
                sample.latencies.reserveCapacity(1 << 16)
                while true {
                    let sent = nowNanos()
                    guard sent < window.end else { break }
                    do {
                        let bytes = try await call(connection)
                        let received = nowNanos()
                        if bytes != expectedBytes {
                            sample.errors += 1
                            sample.lastError = "response of \(bytes) bytes, expected \(expectedBytes)"
                        } else if window.contains(received) {
                            sample.latencies.append(Int64(received - sent))
                        }
                    } catch {
                        sample.errors += 1
                        sample.lastError = "\(error)"
                        // A broken connection fails every call at once; do
                        // not spin on it for the whole window.
                        if sample.errors > 1_000 { break }
                    }
                }
                return sample
            }
        }
        var total = LoadSample()
        for await sample in group { total.merge(sample) }
        return total
    }
}

/// Deterministic payload bytes.
func payload(size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
}
