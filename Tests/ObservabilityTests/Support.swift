import FrameRPC
import FrameRPCObservability
import Foundation
import Logging
import ServiceTesting
import ShopObservability
import SwiftProtobuf
import Testing
import Tracing

/// A service that reports the trace context its handler sees, and can
/// call another server from inside the handler to see what travels on.
struct ProbeService: RPCService {
    static let echo = "/probe.v1.Probe/Echo"
    static let fail = "/probe.v1.Probe/Fail"
    static let relay = "/probe.v1.Probe/Relay"

    /// Where Relay sends its call; `nil` for a service without one.
    let downstream: RPCClient?
    let logger: Logger

    func registerMethods(with router: inout RPCRouter) {
        let logger = logger
        let downstream = downstream
        router.registerUnary(Self.echo) { (_: Google_Protobuf_StringValue, context) in
            logger.info("handling")
            return Google_Protobuf_StringValue.with { $0.value = Self.seen(context) }
        }
        router.registerUnary(Self.fail) { (_: Google_Protobuf_StringValue, _) -> Google_Protobuf_StringValue in
            throw RPCError(code: .notFound, message: "nothing here")
        }
        router.registerUnary(Self.relay) { (request: Google_Protobuf_StringValue, context) in
            guard let downstream else { throw RPCError(code: .unimplemented, message: "no downstream") }
            let reply = try await downstream.unary(method: Self.echo, request: request, response: Google_Protobuf_StringValue.self)
            return Google_Protobuf_StringValue.with { $0.value = Self.seen(context) + " " + reply.value }
        }
    }

    /// `<traceparent in the metadata>|<trace id in ServiceContext>|<request id>`.
    static func seen(_ context: ServerContext) -> String {
        let traceParent = ServerContext.current?.metadata[TraceContext.traceParentKey] ?? "-"
        let traceID = ServiceContext.current?.traceContext?.traceID ?? "-"
        let requestID = ServiceContext.current?.requestID ?? "-"
        return "\(traceParent)|\(traceID)|\(requestID)"
    }
}

/// What one handler saw, parsed from ``ProbeService/seen(_:)``.
struct Seen {
    let traceParent: TraceContext?
    let traceID: String
    let requestID: String

    init(_ text: some StringProtocol) {
        let parts = String(text).split(separator: Character("|"), omittingEmptySubsequences: false).map(String.init)
        traceParent = TraceContext(traceParent: parts[0])
        traceID = parts[1]
        requestID = parts[2]
    }
}

/// A probe server with the observability interceptors, for `body`.
func withProbeServer<Result: Sendable>(
    metrics: MetricsRegistry = MetricsRegistry(),
    logger: Logger = Logger(label: "probe") { _ in SwiftLogNoOpLogHandler() },
    tracer: any Tracer = NoOpTracer(),
    downstream: RPCClient? = nil,
    tls: RPCTLSConfiguration? = nil,
    _ body: (Int) async throws -> Result
) async throws -> Result {
    let server = RPCServer(
        configuration: RPCServer.Configuration(tls: tls),
        services: [ProbeService(downstream: downstream, logger: logger)],
        interceptors: RPCObservability.serverInterceptors(metrics: metrics, callLogger: logger, tracer: tracer),
        connectionObserver: RPCObservability.connectionObserver(metrics: metrics)
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        defer { group.cancelAll() }
        return try await body(try await server.port)
    }
}

/// A client with the observability interceptors.
func probeClient(port: Int, metrics: MetricsRegistry = MetricsRegistry(), tracer: any Tracer = NoOpTracer()) -> RPCClient {
    RPCClient(host: "127.0.0.1", port: port, interceptors: RPCObservability.clientInterceptors(metrics: metrics, tracer: tracer))
}

extension RPCClient {
    func echo(metadata: Metadata = [:]) async throws -> Seen {
        Seen(try await unary(
            method: ProbeService.echo,
            request: Google_Protobuf_StringValue(),
            response: Google_Protobuf_StringValue.self,
            options: CallOptions(timeout: .seconds(5), metadata: metadata)
        ).value)
    }
}

/// The JSON objects of a sink's lines.
func jsonLines(_ sink: InMemoryLogSink) -> [[String: String]] {
    sink.lines.compactMap { line in
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String]
    }
}
