import FrameRPC
import Foundation
import SwiftProtobuf
import Synchronization
import Testing

/// A method registered with a ``CallerPolicy`` lets in only verified peers
/// the policy names, before its payload is decoded or its handler runs.
@Suite("Caller policies")
struct CallerPolicyTests {
    static let method = "/test.v1.Vault/Open"

    /// How often a handler ran.
    final class Calls: Sendable {
        private let count = Atomic<Int>(0)
        func record() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    /// A router with one guarded echo method, and how often its handler ran.
    private func guardedRouter(_ policy: CallerPolicy?) -> (RPCRouter, Calls) {
        let calls = Calls()
        var router = RPCRouter()
        router.registerUnary(Self.method, policy: policy) { (request: Google_Protobuf_StringValue, _) -> Google_Protobuf_StringValue in
            calls.record()
            return request
        }
        return (router, calls)
    }

    private func context(peer service: String?) -> ServerContext {
        ServerContext(
            method: Self.method,
            metadata: ["x-user-role": "admin"],
            deadline: nil,
            peer: service.map { PeerIdentity(uri: PeerIdentity.serviceURI($0)) }
        )
    }

    private func payload(_ text: String) throws -> Data {
        try Google_Protobuf_StringValue(text).serializedData()
    }

    @Test("a peer the policy names reaches the handler")
    func allowedPeerIsServed() async throws {
        let (router, calls) = guardedRouter(["order", "gateway"])
        let answer = try await router.callUnary(Self.method, payload: try payload("hi"), context: context(peer: "order"))
        #expect(try Google_Protobuf_StringValue(serializedBytes: answer).value == "hi")
        #expect(calls.value == 1)
    }

    @Test("a verified peer the policy does not name is PERMISSION_DENIED, naming only the method")
    func otherServiceIsDenied() async throws {
        let (router, calls) = guardedRouter(["order"])
        let request = try payload("hi")
        let error = await rpcError { _ = try await router.callUnary(Self.method, payload: request, context: context(peer: "notification")) }
        #expect(error?.code == .permissionDenied)
        #expect(error?.message == "the caller may not call \(Self.method)")
        #expect(calls.value == 0)
    }

    @Test("a peer with no verified identity is PERMISSION_DENIED whatever metadata it sends")
    func anonymousPeerIsDenied() async throws {
        let (router, calls) = guardedRouter(["order"])
        let request = try payload("hi")
        let error = await rpcError { _ = try await router.callUnary(Self.method, payload: request, context: context(peer: nil)) }
        #expect(error?.code == .permissionDenied)
        #expect(calls.value == 0)
    }

    @Test("a denied peer's payload is never decoded: garbage is PERMISSION_DENIED, not INVALID_ARGUMENT")
    func policyComesBeforeDecoding() async throws {
        let (router, _) = guardedRouter(["order"])
        let garbage = Data([0xFF, 0xFF, 0xFF, 0x0F])
        let denied = await rpcError { _ = try await router.callUnary(Self.method, payload: garbage, context: context(peer: "product")) }
        #expect(denied?.code == .permissionDenied)
        let allowed = await rpcError { _ = try await router.callUnary(Self.method, payload: garbage, context: context(peer: "order")) }
        #expect(allowed?.code == .invalidArgument)
    }

    @Test("a certificate URI that names no service passes no policy")
    func uriWithoutServiceIsDenied() async throws {
        let (router, _) = guardedRouter(["order"])
        let request = try payload("hi")
        for uri in ["spiffe://shop.local/order", "https://shop.local/service/order", "spiffe://shop.local/service/order/extra"] {
            let context = ServerContext(method: Self.method, metadata: [:], deadline: nil, peer: PeerIdentity(uri: uri))
            let error = await rpcError { _ = try await router.callUnary(Self.method, payload: request, context: context) }
            #expect(error?.code == .permissionDenied, "\(uri)")
        }
    }

    @Test("a method registered without a policy is open to any peer, even one with no identity")
    func methodWithoutPolicyIsOpen() async throws {
        let (router, calls) = guardedRouter(nil)
        _ = try await router.callUnary(Self.method, payload: try payload("a"), context: context(peer: nil))
        _ = try await router.callUnary(Self.method, payload: try payload("b"), context: context(peer: "anyone"))
        #expect(calls.value == 2)
        #expect(router.policy(of: Self.method) == nil)
    }

    @Test("the router reports the policy a method was registered with")
    func routerKeepsThePolicy() {
        let (router, _) = guardedRouter(["order", "gateway", "order"])
        #expect(router.policy(of: Self.method)?.allowedServices == ["gateway", "order"])
    }

    /// A service with one guarded method, for a real server.
    struct GuardedService: RPCService {
        func registerMethods(with router: inout RPCRouter) {
            router.registerUnary(CallerPolicyTests.method, policy: ["order"]) { (request: Google_Protobuf_StringValue, _) -> Google_Protobuf_StringValue in
                request
            }
        }
    }

    @Test("over a plaintext connection (no verified peer) a guarded method is PERMISSION_DENIED and others are still served")
    func plaintextPeerIsDeniedOverTCP() async throws {
        try await withTestServer(services: [GuardedService()]) { client, _ throws in
            let request = Google_Protobuf_StringValue("hi")
            let error = await rpcError {
                _ = try await client.unary(method: Self.method, request: request, response: Google_Protobuf_StringValue.self, options: CallOptions(metadata: ["x-user-role": "admin", "x-caller": "order"]))
            }
            #expect(error?.code == .permissionDenied)
            #expect(try await client.echo("still served") == "still served")
        }
    }
}
