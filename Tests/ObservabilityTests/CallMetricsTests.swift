import FrameRPC
import FrameRPCObservability
import Logging
import ServiceTesting
import ShopObservability
import SwiftProtobuf
import Testing

/// The call and connection series, counted exactly over real calls.
@Suite("RPC metrics and call log")
struct CallMetricsTests {
    @Test("server and client count calls by method and status code")
    func countsCalls() async throws {
        let serverMetrics = MetricsRegistry()
        let clientMetrics = MetricsRegistry()
        try await withProbeServer(metrics: serverMetrics) { port in
            let client = probeClient(port: port, metrics: clientMetrics)
            defer { client.shutdown() }
            for _ in 0..<3 { _ = try await client.echo() }
            for _ in 0..<2 {
                await #expect(throws: RPCError.self) {
                    _ = try await client.unary(method: ProbeService.fail, request: Google_Protobuf_StringValue(), response: Google_Protobuf_StringValue.self)
                }
            }
            let server = PrometheusText(serverMetrics.exposition())
            #expect(server.value("rpc_server_calls_total", ["method": ProbeService.echo, "code": "OK"]) == 3)
            #expect(server.value("rpc_server_calls_total", ["method": ProbeService.fail, "code": "NOT_FOUND"]) == 2)
            #expect(server.value("rpc_server_call_duration_seconds_count", ["method": ProbeService.echo]) == 3)
            #expect(server.value("rpc_server_calls_in_flight") == 0)
            #expect(server.value("rpc_server_connections") == 1)
            #expect(server.value("rpc_server_connections_accepted_total") == 1)

            let caller = PrometheusText(clientMetrics.exposition())
            #expect(caller.value("rpc_client_calls_total", ["method": ProbeService.echo, "code": "OK"]) == 3)
            #expect(caller.value("rpc_client_calls_total", ["method": ProbeService.fail, "code": "NOT_FOUND"]) == 2)
            #expect(caller.value("rpc_client_call_duration_seconds_count", ["method": ProbeService.fail]) == 2)
            #expect(caller.value("rpc_client_calls_in_flight") == 0)
        }
    }

    @Test("a failed TLS handshake is counted in rpc_server_tls_handshake_failures_total; a verified client is not")
    func countsHandshakeFailures() async throws {
        let metrics = MetricsRegistry()
        try await withProbeServer(metrics: metrics, tls: TestPKI.shared.server(as: "user")) { port in
            let verified = RPCClient(host: "127.0.0.1", port: port, configuration: RPCClient.Configuration(tls: TestPKI.shared.client(as: "gateway", calling: "user")))
            defer { verified.shutdown() }
            _ = try await verified.echo()
            #expect(PrometheusText(metrics.exposition()).value("rpc_server_tls_handshake_failures_total") ?? 0 == 0)

            let plaintext = probeClient(port: port)
            defer { plaintext.shutdown() }
            await #expect(throws: RPCError.self) { _ = try await plaintext.echo() }
            // At least one: the client may try a second connection for a
            // call that was never sent (FrameRPC retries those once).
            let counted = await eventually(timeout: .seconds(10)) {
                (PrometheusText(metrics.exposition()).value("rpc_server_tls_handshake_failures_total") ?? 0) >= 1
            }
            #expect(counted, "failures counted: \(PrometheusText(metrics.exposition()).value("rpc_server_tls_handshake_failures_total") ?? 0)")
        }
    }

    @Test("a closed connection leaves the open-connections gauge")
    func connectionClosed() async throws {
        let metrics = MetricsRegistry()
        try await withProbeServer(metrics: metrics) { port in
            let client = probeClient(port: port)
            _ = try await client.echo()
            client.shutdown()
            var open = PrometheusText(metrics.exposition()).value("rpc_server_connections")
            let end = ContinuousClock.now + .seconds(5)
            while open != 0, ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(20))
                open = PrometheusText(metrics.exposition()).value("rpc_server_connections")
            }
            #expect(open == 0)
        }
    }

    @Test("every served call gets a log line with method, code, request id and trace id")
    func callLog() async throws {
        let sink = InMemoryLogSink()
        let logger = Observability.logger(label: "probe", processName: "probe", sink: sink)
        try await withProbeServer(logger: logger) { port in
            let client = probeClient(port: port)
            defer { client.shutdown() }
            _ = try await client.echo(metadata: [
                TraceContext.traceParentKey: TracingInterceptorTests.callerTrace, "x-request-id": "req-9",
            ])
        }
        let lines = jsonLines(sink)
        let call = try #require(lines.first { $0["message"] == "call" })
        #expect(call["method"] == ProbeService.echo)
        #expect(call["code"] == "OK")
        #expect(call["request_id"] == "req-9")
        #expect(call["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(call["duration_ms"] != nil)
        // The handler's own line names the same request.
        let handling = try #require(lines.first { $0["message"] == "handling" })
        #expect(handling["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(handling["span_id"] == call["span_id"])
    }
}
