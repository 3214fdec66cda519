import FrameRPC
import Foundation
import SwiftProtobuf

/// Connect plus first call on fresh connections, plaintext and mTLS: the
/// difference of the medians is what the TLS 1.3 handshake (with both
/// certificates verified) costs a new connection.
struct HandshakeResult: Encodable, Sendable {
    let count: Int
    let plaintextP50Micros: Double
    let plaintextP99Micros: Double
    let tlsP50Micros: Double
    let tlsP99Micros: Double
    var addedMicros: Double { tlsP50Micros - plaintextP50Micros }

    enum CodingKeys: String, CodingKey {
        case count
        case plaintextP50Micros = "plaintext_p50_us"
        case plaintextP99Micros = "plaintext_p99_us"
        case tlsP50Micros = "tls_p50_us"
        case tlsP99Micros = "tls_p99_us"
        case addedMicros = "added_p50_us"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(count, forKey: .count)
        try container.encode(plaintextP50Micros, forKey: .plaintextP50Micros)
        try container.encode(plaintextP99Micros, forKey: .plaintextP99Micros)
        try container.encode(tlsP50Micros, forKey: .tlsP50Micros)
        try container.encode(tlsP99Micros, forKey: .tlsP99Micros)
        try container.encode(addedMicros, forKey: .addedMicros)
    }
}

enum HandshakeProbe {
    /// Starts a plaintext and an mTLS FrameRPC server process and times
    /// `count` fresh clients against each, alternating.
    static func compare(host: String, count: Int, certificates: BenchCertificates, nioExecutor: Bool) async throws -> HandshakeResult {
        let plain = try await ServerProcess.start(kind: .framerpc, host: host, nioExecutor: nioExecutor)
        defer { try? plain.stop() }
        let tls = try await ServerProcess.start(kind: .framerpcTLS, host: host, nioExecutor: nioExecutor, tlsDirectory: certificates.directory)
        defer { try? tls.stop() }
        var plainTimes: [Double] = []
        var tlsTimes: [Double] = []
        for _ in 0..<count {
            plainTimes.append(try await firstCall(host: host, port: plain.port, tls: nil))
            tlsTimes.append(try await firstCall(host: host, port: tls.port, tls: certificates.client))
        }
        plainTimes.sort()
        tlsTimes.sort()
        return HandshakeResult(
            count: count,
            plaintextP50Micros: percentile(plainTimes, 0.5),
            plaintextP99Micros: percentile(plainTimes, 0.99),
            tlsP50Micros: percentile(tlsTimes, 0.5),
            tlsP99Micros: percentile(tlsTimes, 0.99)
        )
    }

    /// Microseconds from a new client to the answer of its first call.
    private static func firstCall(host: String, port: Int, tls: RPCTLSConfiguration?) async throws -> Double {
        let started = nowNanos()
        let client = RPCClient(host: host, port: port, configuration: RPCClient.Configuration(tls: tls))
        defer { client.shutdown() }
        _ = try await client.unary(method: EchoService.echoMethod, request: Google_Protobuf_BytesValue(), response: Google_Protobuf_BytesValue.self)
        return Double(nowNanos() - started) / 1_000
    }

    private static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }
}
