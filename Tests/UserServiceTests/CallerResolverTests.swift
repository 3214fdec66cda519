import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAuth
import Testing

/// Who a call acts for, from the verified peer and the gateway's token
/// alone (ServiceSupport's `CallerResolver`, which every service uses).
@Suite("Caller resolution")
struct CallerResolverTests {
    let resolver: CallerResolver

    init() async throws {
        resolver = CallerResolver(tokens: try await TokenAuthority(signingKey: TestSigning.key))
    }

    private func context(peer: String?, metadata: Metadata = [:]) -> ServerContext {
        ServerContext(method: "/shop.user.v1.UserService/ListUsers", metadata: metadata, deadline: nil, peer: peer.map { PeerIdentity(uri: $0) })
    }

    private func bearer(_ id: String, _ role: AccessTokenClaims.Role) async throws -> Metadata {
        ["authorization": "Bearer \(try await TestSigning.token(userID: id, role: role))"]
    }

    private static let gateway = PeerIdentity.serviceURI("gateway")

    @Test("the gateway with a valid token acts for the token's user and role")
    func gatewayWithToken() async throws {
        let caller = try await resolver.caller(of: context(peer: Self.gateway, metadata: try await bearer("u-1", .admin)))
        #expect(caller.principal == .user(id: "u-1", role: .admin))
        #expect(caller.isAdmin && !caller.isService)
    }

    @Test("the gateway without a token is anonymous, whatever bare identity metadata it carries")
    func gatewayWithoutToken() async throws {
        let caller = try await resolver.caller(of: context(peer: Self.gateway, metadata: ["x-user-id": "u-1", "x-user-role": "admin"]))
        #expect(caller == .anonymous)
        #expect(!caller.isPrivileged)
        #expect(throws: RPCError.self) { try caller.requireAdmin() }
    }

    @Test("the gateway with a bad token is UNAUTHENTICATED", arguments: ["Bearer not.a.token", "Basic abc", "Bearer"])
    func gatewayWithBadToken(_ header: String) async throws {
        let error = await rpcError { _ = try await resolver.caller(of: context(peer: Self.gateway, metadata: ["authorization": header])) }
        #expect(error?.code == .unauthenticated)
    }

    @Test("another service acts as itself: its tokens and identity metadata are ignored")
    func otherServiceIsItself() async throws {
        let order = PeerIdentity.serviceURI("order")
        for metadata in [try await bearer("u-1", .user), ["x-user-id": "u-1", "x-user-role": "user"], ["authorization": "Bearer garbage"]] {
            let caller = try await resolver.caller(of: context(peer: order, metadata: metadata))
            #expect(caller.principal == .service("order"))
            #expect(caller.userID == nil && caller.isPrivileged)
        }
    }

    @Test("no verified peer is anonymous, even with an admin's valid token: never internal")
    func noPeerIsAnonymous() async throws {
        let caller = try await resolver.caller(of: context(peer: nil, metadata: try await bearer("u-1", .admin)))
        #expect(caller == .anonymous)
        #expect(!caller.isService)
    }

    @Test("a certificate URI that names no service is anonymous")
    func uriWithoutServiceIsAnonymous() async throws {
        let caller = try await resolver.caller(of: context(peer: "spiffe://shop.local/gateway", metadata: try await bearer("u-1", .admin)))
        #expect(caller == .anonymous)
    }
}
