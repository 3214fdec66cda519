import FrameRPC
import FrameRPCObservability
import InMemoryTracing
import Logging
import ShopObservability
import SwiftProtobuf
import Testing
import Tracing

/// Trace context across real FrameRPC calls on 127.0.0.1.
@Suite("Tracing interceptors")
struct TracingInterceptorTests {
    static let callerTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test("a served call continues the caller's trace under a new span id")
    func continuesTrace() async throws {
        try await withProbeServer { port in
            let client = probeClient(port: port)
            defer { client.shutdown() }
            let seen = try await client.echo(metadata: [TraceContext.traceParentKey: Self.callerTrace, "x-request-id": "req-1"])
            let span = try #require(seen.traceParent)
            #expect(span.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(span.spanIDString != "00f067aa0ba902b7")
            #expect(seen.traceID == span.traceID)
            #expect(seen.requestID == "req-1")
        }
    }

    @Test("a call made inside a handler carries the trace and request id on")
    func propagatesThroughHandler() async throws {
        try await withProbeServer { downstreamPort in
            let downstream = probeClient(port: downstreamPort)
            defer { downstream.shutdown() }
            try await withProbeServer(downstream: downstream) { port in
                let client = probeClient(port: port)
                defer { client.shutdown() }
                let reply = try await client.unary(
                    method: ProbeService.relay,
                    request: Google_Protobuf_StringValue(),
                    response: Google_Protobuf_StringValue.self,
                    options: CallOptions(timeout: .seconds(5), metadata: [TraceContext.traceParentKey: Self.callerTrace, "x-request-id": "req-2"])
                ).value
                let parts = reply.split(separator: " ")
                try #require(parts.count == 2)
                let relay = Seen(parts[0])
                let echo = Seen(parts[1])
                #expect(echo.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
                #expect(echo.traceParent?.spanID != relay.traceParent?.spanID)
                #expect(echo.requestID == "req-2")
            }
        }
    }

    @Test("a call with an invalid traceparent starts a new trace")
    func invalidStartsNewTrace() async throws {
        try await withProbeServer { port in
            // No tracing interceptor on this client: the bad header reaches the server as sent.
            let client = RPCClient(host: "127.0.0.1", port: port)
            defer { client.shutdown() }
            let seen = try await client.echo(metadata: [TraceContext.traceParentKey: "00-00000000000000000000000000000000-00f067aa0ba902b7-01"])
            let span = try #require(seen.traceParent)
            #expect(span.traceID != "00000000000000000000000000000000")
            #expect(seen.traceID == span.traceID)
        }
    }

    @Test("a call made outside any request starts a trace of its own")
    func rootCall() async throws {
        try await withProbeServer { port in
            let client = probeClient(port: port)
            defer { client.shutdown() }
            let first = try await client.echo()
            let second = try await client.echo()
            #expect(first.traceParent != nil)
            #expect(first.traceID != second.traceID)
        }
    }

    @Test("a call made while a ServiceContext trace is bound continues that trace")
    func boundContext() async throws {
        try await withProbeServer { port in
            let client = probeClient(port: port)
            defer { client.shutdown() }
            let trace = try #require(TraceContext(traceParent: Self.callerTrace))
            let seen = try await ServiceContext.withValue(.request(trace: trace, requestID: "req-3")) {
                try await client.echo()
            }
            #expect(seen.traceID == trace.traceID)
            #expect(seen.requestID == "req-3")
        }
    }

    @Test("with a tracer, each call is a client span and a server span named after the method")
    func spans() async throws {
        let tracer = InMemoryTracer()
        try await withProbeServer(tracer: tracer) { port in
            let client = probeClient(port: port, tracer: tracer)
            defer { client.shutdown() }
            _ = try await client.echo()
        }
        let spans = tracer.finishedSpans
        #expect(spans.filter { $0.kind == .client && $0.operationName == ProbeService.echo }.count == 1)
        #expect(spans.filter { $0.kind == .server && $0.operationName == ProbeService.echo }.count == 1)
    }
}
