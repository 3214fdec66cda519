import FrameRPC
import Foundation
import SwiftProtobuf
import Synchronization
import Testing

/// Records the order interceptors ran in and the outcomes they saw.
final class Journal: Sendable {
    private let entries = Mutex<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

struct NamedServerInterceptor: ServerInterceptor {
    let name: String
    let journal: Journal

    func intercept(context: ServerContext, next: (ServerContext) async throws -> ServerOutcome) async throws -> ServerOutcome {
        journal.add("\(name) in")
        var context = context
        context.metadata["x-seen-by"] = (context.metadata["x-seen-by"].map { $0 + "," } ?? "") + name
        do {
            let outcome = try await next(context)
            journal.add("\(name) ok")
            return outcome
        } catch let error as RPCError {
            journal.add("\(name) \(error.code)")
            throw error
        }
    }
}

/// Refuses calls that carry no `authorization` metadata.
struct RequireAuthorization: ServerInterceptor {
    func intercept(context: ServerContext, next: (ServerContext) async throws -> ServerOutcome) async throws -> ServerOutcome {
        guard context.metadata[Metadata.ReservedKey.authorization] != nil else {
            throw RPCError(code: .unauthenticated, message: "credentials required")
        }
        return try await next(context)
    }
}

struct TokenClientInterceptor: ClientInterceptor {
    let journal: Journal

    func intercept(context: ClientContext, next: (ClientContext) async throws -> ClientOutcome) async throws -> ClientOutcome {
        var context = context
        context.metadata[Metadata.ReservedKey.authorization] = "Bearer test"
        do {
            let outcome = try await next(context)
            journal.add("client ok \(context.method)")
            return outcome
        } catch let error as RPCError {
            journal.add("client \(error.code) \(context.method)")
            throw error
        }
    }
}

@Suite("Interceptors")
struct InterceptorTests {
    @Test("server interceptors run in order, add metadata the handler sees, and see the outcome")
    func serverOrderAndOutcome() async throws {
        let journal = Journal()
        let interceptors: [any ServerInterceptor] = [
            NamedServerInterceptor(name: "a", journal: journal),
            NamedServerInterceptor(name: "b", journal: journal),
        ]
        try await withTestServer(interceptors: interceptors) { client, _ throws in
            let seen = try await client.unary(
                method: FixtureService.metadataValue,
                request: Google_Protobuf_StringValue.with { $0.value = "x-seen-by" },
                response: Google_Protobuf_StringValue.self
            )
            #expect(seen.value == "a,b")
            #expect(journal.all == ["a in", "b in", "b ok", "a ok"])

            _ = await rpcError {
                _ = try await client.unary(method: FixtureService.fail, request: Google_Protobuf_StringValue(), response: Google_Protobuf_StringValue.self)
            }
            #expect(journal.all.suffix(2) == ["b FAILED_PRECONDITION", "a FAILED_PRECONDITION"])
        }
    }

    @Test("an interceptor can refuse a call before the handler runs")
    func refusal() async throws {
        let probe = HandlerProbe()
        try await withTestServer(probe: probe, interceptors: [RequireAuthorization()]) { client, _ throws in
            let error = await rpcError {
                _ = try await client.unary(method: FixtureService.slow, request: Google_Protobuf_Int64Value.with { $0.value = 1 }, response: Google_Protobuf_Int64Value.self)
            }
            #expect(error?.code == .unauthenticated)
            #expect(!probe.recorded.contains("slow started"))
        }
    }

    @Test("a client interceptor adds metadata to every call and sees each outcome")
    func clientInterceptor() async throws {
        let journal = Journal()
        try await withTestServer(
            interceptors: [RequireAuthorization()],
            clientInterceptors: [TokenClientInterceptor(journal: journal)]
        ) { client, _ throws in
            #expect(try await client.echo("authorized") == "authorized")
            _ = await rpcError {
                _ = try await client.unary(method: FixtureService.fail, request: Google_Protobuf_StringValue(), response: Google_Protobuf_StringValue.self)
            }
            #expect(journal.all == ["client ok \(FixtureService.echo)", "client FAILED_PRECONDITION \(FixtureService.fail)"])
        }
    }
}
