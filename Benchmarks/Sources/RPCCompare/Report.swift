import Foundation

/// The figures of one run, as markdown tables (what the README shows) and
/// as JSON (what plot.py reads). Targets are printed as met or missed, with
/// their figure; nothing here fails the run.
struct Report: Codable, Sendable {
    let build: String
    let durationSeconds: Double
    let warmupSeconds: Double
    let processors: Int
    let started: Date
    let rows: [Row]

    /// The issue's targets: FrameRPC at least this many times
    /// grpc-swift-2's calls/s, with a lower p99, at every point.
    static let callsRatioTarget = 5.0

    /// A FrameRPC row beside its grpc-swift-2 and floor rows of the same point.
    struct Comparison {
        let point: Point
        let frame: Row
        let grpc: Row?
        let floor: Row?

        var callsRatio: Double? { ratio(frame.callsPerSecond, grpc?.callsPerSecond) }
        var p99Ratio: Double? { ratio(frame.latency?.p99, grpc?.latency?.p99) }
        var floorCallsRatio: Double? { ratio(frame.callsPerSecond, floor?.callsPerSecond) }
        var floorCPURatio: Double? { ratio(frame.cpuMicrosPerCall, floor?.cpuMicrosPerCall) }

        var callsTargetMet: Bool? { callsRatio.map { $0 >= Report.callsRatioTarget } }
        var p99TargetMet: Bool? { p99Ratio.map { $0 < 1 } }

        private func ratio(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b, b > 0, a > 0 else { return nil }
            return a / b
        }
    }

    var comparisons: [Comparison] {
        func row(_ point: Point) -> Row? { rows.first { $0.point == point && $0.calls > 0 } }
        var result: [Comparison] = []
        for frame in rows where (frame.point.system == .framerpc || frame.point.system == .framerpcMTLS) && frame.calls > 0 {
            let tls = frame.point.system == .framerpcMTLS
            result.append(Comparison(
                point: frame.point, frame: frame,
                grpc: row(frame.point.with(tls ? .grpcMTLS : .grpc)),
                floor: tls ? nil : row(frame.point.with(.floor))
            ))
        }
        return result
    }

    func text() -> String {
        var out = ""
        let date = ISO8601DateFormatter().string(from: started)
        out += "rpc-compare: unary echo on 127.0.0.1, server and client in separate processes (\(build) build, \(processors) processors, \(date))\n"
        out += "each point: fresh server and client processes, \(Self.number(warmupSeconds, 1)) s warm-up, \(Self.number(durationSeconds, 1)) s measured; c = calls in flight in all, spread over the connections\n\n"
        out += "| system | payload | c | conns | calls/s | p50 µs | p99 µs | p99.9 µs | CPU µs/call (client + server) | peak RSS MiB (client / server) | other CPUs busy |\n"
        out += "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for row in rows {
            let p = row.point
            let prefix = "| \(p.system.label) | \(Self.bytes(p.payloadBytes)) | \(p.concurrency) | \(p.connections) |"
            guard row.calls > 0, let latency = row.latency else {
                out += "\(prefix) failed: \(row.failure ?? "?") | | | | | | |\n"
                continue
            }
            let cpu: String
            if let total = row.cpuMicrosPerCall, let client = row.clientCPUMicrosPerCall, let server = row.serverCPUMicrosPerCall {
                cpu = "\(Self.number(total, 1)) (\(Self.number(client, 1)) + \(Self.number(server, 1)))"
            } else {
                cpu = "?"
            }
            let rss = "\(Self.mebibytes(row.clientPeakRSSBytes)) / \(Self.mebibytes(row.serverPeakRSSBytes))"
            out += "\(prefix) \(Self.grouped(row.callsPerSecond)) | \(Self.micros(latency.p50)) | \(Self.micros(latency.p99)) | \(Self.micros(latency.p999)) | \(cpu) | \(rss) | \(row.otherProcessors.map { Self.number($0, 2) } ?? "?") |\n"
        }
        let comparisons = self.comparisons
        if !comparisons.isEmpty {
            out += "\n| point | FrameRPC/gRPC calls/s (target >= \(Self.number(Self.callsRatioTarget, 0))x) | FrameRPC/gRPC p99 (target < 1) | FrameRPC/floor calls/s | FrameRPC/floor CPU per call |\n"
            out += "| --- | ---: | ---: | ---: | ---: |\n"
            for c in comparisons {
                let name = "\(c.point.system == .framerpcMTLS ? "mTLS " : "")\(Self.bytes(c.point.payloadBytes)), c=\(c.point.concurrency), \(c.point.connections) conn"
                out += "| \(name) | \(Self.verdict(c.callsRatio, c.callsTargetMet)) | \(Self.verdict(c.p99Ratio, c.p99TargetMet)) | \(c.floorCallsRatio.map { Self.number($0, 2) + "x" } ?? "-") | \(c.floorCPURatio.map { Self.number($0, 1) + "x" } ?? "-") |\n"
            }
            let verdicts = comparisons.flatMap { [$0.callsTargetMet, $0.p99TargetMet] }.compactMap { $0 }
            let met = verdicts.filter { $0 }.count
            out += "\ntargets (FrameRPC >= \(Self.number(Self.callsRatioTarget, 0))x grpc-swift-2 calls/s and lower p99, at every point): \(met) of \(verdicts.count) met"
            let missed = comparisons.filter { $0.callsTargetMet == false || $0.p99TargetMet == false }
            if missed.isEmpty {
                out += "\n"
            } else {
                out += "; missed at: " + missed.map { c in
                    "\(c.point.system == .framerpcMTLS ? "mTLS " : "")\(Self.bytes(c.point.payloadBytes)) c=\(c.point.concurrency) \(c.point.connections)conn"
                }.joined(separator: ", ") + "\n"
            }
        }
        let failures = rows.filter { $0.calls == 0 }
        if !failures.isEmpty { out += "\(failures.count) points failed (see above)\n" }
        let disturbed = rows.filter { ($0.otherProcessors ?? 0) > 0.25 }
        if !disturbed.isEmpty {
            out += "disturbed: \(disturbed.count) of \(rows.count) points saw other work busy on more than 0.25 processors (column 'other CPUs busy')\n"
        }
        return out
    }

    private static func verdict(_ value: Double?, _ met: Bool?) -> String {
        guard let value, let met else { return "-" }
        return "\(number(value, 2))x \(met ? "met" : "**missed**")"
    }

    static func number(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    static func micros(_ value: Double) -> String {
        value >= 100 ? number(value, 0) : number(value, 1)
    }

    static func grouped(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }

    static func bytes(_ count: Int) -> String {
        count >= 1024 && count % 1024 == 0 ? "\(count / 1024) KiB" : "\(count) B"
    }

    static func mebibytes(_ bytes: Int64?) -> String {
        bytes.map { number(Double($0) / 1_048_576, 1) } ?? "?"
    }
}
