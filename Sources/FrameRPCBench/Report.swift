import Foundation

/// A FrameRPC/floor ratio, with the issue's target where it has one.
struct Ratio: Codable, Sendable {
    let name: String
    let description: String
    let value: Double
    /// "max": pass if value <= target; "min": pass if value >= target.
    let bound: String?
    let target: Double?
    let pass: Bool?
}

struct Report: Encodable, Sendable {
    let benchmark = "framerpc-bench"
    let build: String
    /// Where Swift tasks run: "default" (Swift's global pool) or "nio" (`--nio-executor`).
    let executor: String
    let host: String
    let payloadBytes: Int
    let warmupSeconds: Double
    let durationSeconds: Double
    let processors: Int
    let layout = "server and client in separate processes, one TCP connection"
    let results: [RunResult]
    let ratios: [Ratio]
    /// Connect plus first call on fresh connections, plaintext against mTLS.
    let handshake: HandshakeResult?

    enum CodingKeys: String, CodingKey {
        case benchmark, build, executor, host, processors, layout, results, ratios, handshake
        case payloadBytes = "payload_bytes"
        case warmupSeconds = "warmup_seconds"
        case durationSeconds = "duration_seconds"
    }

    /// All targets met (runs without a target do not count).
    var passed: Bool { ratios.allSatisfy { $0.pass ?? true } }

    init(
        build: String, executor: String, host: String, payloadBytes: Int, warmupSeconds: Double, durationSeconds: Double,
        results: [RunResult], handshake: HandshakeResult? = nil
    ) {
        self.handshake = handshake
        self.build = build
        self.executor = executor
        self.host = host
        self.payloadBytes = payloadBytes
        self.warmupSeconds = warmupSeconds
        self.durationSeconds = durationSeconds
        self.processors = ProcessInfo.processInfo.activeProcessorCount
        self.results = results
        self.ratios = Self.ratios(results)
    }

    private static func ratios(_ results: [RunResult]) -> [Ratio] {
        var ratios: [Ratio] = []
        for system in [SystemKind.framerpc, .framerpcLoop] {
            ratios += targetRatios(results, system: system)
        }
        let concurrencies = Array(Set(results.map(\.concurrency))).sorted()
        // What mutual TLS adds to FrameRPC, at each concurrency run.
        for concurrency in concurrencies {
            guard let plain = results.first(where: { $0.system == .framerpc && $0.concurrency == concurrency }),
                  let tls = results.first(where: { $0.system == .framerpcTLS && $0.concurrency == concurrency }) else { continue }
            ratios.append(Ratio(
                name: "tls_calls_per_second_c\(concurrency)", description: "mTLS/plaintext FrameRPC calls/s at c=\(concurrency)",
                value: tls.callsPerSecond / plain.callsPerSecond, bound: nil, target: nil, pass: nil
            ))
            ratios.append(Ratio(
                name: "tls_added_p50_micros_c\(concurrency)", description: "µs mTLS adds to p50 at c=\(concurrency)",
                value: tls.p50Micros - plain.p50Micros, bound: nil, target: nil, pass: nil
            ))
            if let tlsCPU = tls.cpuMicrosPerCall, let plainCPU = plain.cpuMicrosPerCall {
                ratios.append(Ratio(
                    name: "tls_added_cpu_micros_c\(concurrency)", description: "CPU µs/call mTLS adds at c=\(concurrency)",
                    value: tlsCPU - plainCPU, bound: nil, target: nil, pass: nil
                ))
            }
        }
        return ratios
    }

    /// The issue's targets and the same ratios at every concurrency, for
    /// `system` (FrameRPC with calling tasks on the global pool, or on the
    /// client's event loop) against the floor.
    private static func targetRatios(_ results: [RunResult], system: SystemKind) -> [Ratio] {
        let suffix = system == .framerpc ? "" : "_loop"
        let label = system == .framerpc ? "FrameRPC" : "FrameRPC (loop)"
        func pair(_ concurrency: Int) -> (floor: RunResult, rpc: RunResult)? {
            guard let floor = results.first(where: { $0.system == .raw && $0.concurrency == concurrency }),
                  let rpc = results.first(where: { $0.system == system && $0.concurrency == concurrency })
            else { return nil }
            return (floor, rpc)
        }
        var ratios: [Ratio] = []
        // The issue's targets.
        if let (floor, rpc) = pair(64) {
            let value = rpc.callsPerSecond / floor.callsPerSecond
            ratios.append(Ratio(
                name: "calls_per_second_c64" + suffix,
                description: "\(label)/floor calls/s at c=64",
                value: value, bound: "min", target: 0.5, pass: value >= 0.5
            ))
        }
        if let (floor, rpc) = pair(1) {
            let value = rpc.p50Micros / floor.p50Micros
            ratios.append(Ratio(
                name: "p50_c1" + suffix,
                description: "\(label)/floor p50 at c=1",
                value: value, bound: "max", target: 1.3, pass: value <= 1.3
            ))
        }
        // For information: the same ratios at every concurrency run, and CPU per call.
        let concurrencies = Array(Set(results.map(\.concurrency))).sorted()
        for concurrency in concurrencies {
            guard let (floor, rpc) = pair(concurrency) else { continue }
            if concurrency != 64 {
                ratios.append(Ratio(
                    name: "calls_per_second_c\(concurrency)" + suffix,
                    description: "\(label)/floor calls/s at c=\(concurrency)",
                    value: rpc.callsPerSecond / floor.callsPerSecond, bound: nil, target: nil, pass: nil
                ))
            }
            if concurrency != 1 {
                ratios.append(Ratio(
                    name: "p50_c\(concurrency)" + suffix,
                    description: "\(label)/floor p50 at c=\(concurrency)",
                    value: rpc.p50Micros / floor.p50Micros, bound: nil, target: nil, pass: nil
                ))
            }
            if let rpcCPU = rpc.cpuMicrosPerCall, let floorCPU = floor.cpuMicrosPerCall {
                // Issue 12's target: at most 3x the floor's CPU per call at c=64.
                let value = rpcCPU / floorCPU
                let target: Double? = concurrency == 64 ? 3 : nil
                ratios.append(Ratio(
                    name: "cpu_per_call_c\(concurrency)" + suffix,
                    description: "\(label)/floor CPU/call at c=\(concurrency)",
                    value: value, bound: target == nil ? nil : "max", target: target, pass: target.map { value <= $0 }
                ))
            }
        }
        return ratios
    }

    // MARK: Rendering

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func table() -> String {
        var lines: [String] = []
        lines.append("FrameRPC vs raw SwiftNIO floor: \(payloadBytes)-byte unary echo on \(host), \(layout)")
        lines.append("\(build) build, \(processors) processors, \(Self.number(durationSeconds, 1)) s measured per run after \(Self.number(warmupSeconds, 1)) s warm-up"
            + (executor == "default" ? "" : ", Swift tasks on \(executor == "nio" ? "NIO's event loops" : executor)"))
        lines.append("")
        let header = ["system", "conc", "calls/s", "p50 µs", "p99 µs", "p99.9 µs", "CPU µs/call", "errors", "other load", "steal"]
        var rows: [[String]] = []
        for result in results {
            rows.append([
                result.system.label,
                "\(result.concurrency)",
                Self.grouped(Int(result.callsPerSecond.rounded())),
                Self.number(result.p50Micros, 1),
                Self.number(result.p99Micros, 1),
                Self.number(result.p999Micros, 1),
                result.cpuMicrosPerCall.map { Self.number($0, 1) } ?? "n/a",
                "\(result.errors)",
                result.otherProcessorsBusy.map { Self.number($0, 2) } ?? "n/a",
                result.stolenProcessors.map { Self.number($0, 2) } ?? "n/a",
            ])
        }
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { $0[column] }).map(\.count).max()!
        }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        lines.append(render(header))
        lines.append(render(widths.map { String(repeating: "-", count: $0) }))
        lines.append(contentsOf: rows.map(render))
        if !ratios.isEmpty {
            lines.append("")
            let width = ratios.map(\.description.count).max()!
            for ratio in ratios {
                var line = ratio.description + ":" + String(repeating: " ", count: width - ratio.description.count)
                line += "  " + Self.number(ratio.value, 2)
                if let target = ratio.target, let bound = ratio.bound, let pass = ratio.pass {
                    line += "  (target \(bound == "min" ? ">=" : "<=") \(Self.number(target, 2)))  \(pass ? "PASS" : "MISS")"
                }
                lines.append(line)
            }
        }
        if let handshake {
            lines.append("")
            lines.append("fresh connection, connect + first call (\(handshake.count) each): plaintext p50 \(Self.number(handshake.plaintextP50Micros, 1)) µs, mTLS p50 \(Self.number(handshake.tlsP50Micros, 1)) µs; the TLS 1.3 handshake adds \(Self.number(handshake.addedMicros, 1)) µs (p99 \(Self.number(handshake.plaintextP99Micros, 1)) / \(Self.number(handshake.tlsP99Micros, 1)) µs)")
        }
        lines.append("")
        lines.append("CPU µs/call: client + server CPU time (user+system) over the timed window / calls completed in it.")
        lines.append("other load / steal: processors' worth of CPU used by other processes / taken by the hypervisor during the window (should be ~0).")
        if let worst = results.map(\.disturbance).max(), worst > Self.disturbanceWarning {
            lines.append("WARNING: other processes and steal took up to \(Self.number(worst, 2)) processors during a run; the figures are disturbed, rerun on an idle machine.")
        }
        return lines.joined(separator: "\n")
    }

    /// Other load plus steal above this many processors makes a run suspect.
    static let disturbanceWarning = 0.1

    static func number(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }
}
