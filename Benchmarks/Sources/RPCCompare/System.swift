import ArgumentParser

/// One of the systems measured side by side.
enum System: String, Codable, Sendable, CaseIterable, ExpressibleByArgument {
    /// The floor: raw SwiftNIO length-prefixed echo, no RPC layer at all.
    case floor
    /// FrameRPC's server and client, plaintext.
    case framerpc
    /// grpc-swift-2 over HTTP/2 (grpc-swift-nio-transport, Posix), plaintext.
    case grpc
    /// FrameRPC over mutual TLS 1.3.
    case framerpcMTLS = "framerpc-mtls"
    /// grpc-swift-2 over mutual TLS (the same certificates).
    case grpcMTLS = "grpc-mtls"

    var label: String {
        switch self {
        case .floor: "raw NIO floor"
        case .framerpc: "FrameRPC"
        case .grpc: "grpc-swift-2"
        case .framerpcMTLS: "FrameRPC mTLS"
        case .grpcMTLS: "grpc-swift-2 mTLS"
        }
    }

    var usesTLS: Bool { self == .framerpcMTLS || self == .grpcMTLS }
}

/// One measured configuration: a system at one payload size, total calls in
/// flight and number of connections (the calls are spread evenly over them).
struct Point: Sendable, Codable, Hashable {
    let system: System
    let payloadBytes: Int
    let concurrency: Int
    let connections: Int

    /// The same configuration for another system, to pair rows for ratios.
    func with(_ other: System) -> Point {
        Point(system: other, payloadBytes: payloadBytes, concurrency: concurrency, connections: connections)
    }

    var description: String {
        "\(system.label), \(payloadBytes) B, c=\(concurrency), \(connections) conn"
    }
}

/// Calls in flight on each of `connections` connections, `concurrency` in all.
func spread(concurrency: Int, over connections: Int) -> [Int] {
    (0..<connections).map { concurrency / connections + ($0 < concurrency % connections ? 1 : 0) }.filter { $0 > 0 }
}
