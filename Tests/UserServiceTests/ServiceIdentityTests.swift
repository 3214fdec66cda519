import FrameRPC
import Foundation
import ServiceSupport
import ServiceTesting
import ShopAPI
import ShopAuth
import Testing
import UserService

/// Issue 10's attack and its neighbours, against the real user service
/// over real mutual TLS: who the peer's certificate says it is decides what
/// it may call and whose identity it may carry; metadata decides nothing.
@Suite("User service: caller identity over mutual TLS")
struct ServiceIdentityTests {
    /// Runs the user service over mutual TLS; `body` gets a client factory
    /// by caller identity (each client shut down afterwards).
    private func withService(_ body: (_ as: (String) -> UserServiceClient) async throws -> Void) async throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        var environment = Fixture.environment(temporary.path)
        environment.tls = TestPKI.shared.server(as: "user")
        try await withRunningService(UserServiceApp.factory, environment: environment) { port in
            let clients = ClientPool(port: port, service: "user")
            defer { clients.shutdown() }
            try await body { UserServiceClient(clients.client(as: $0)) }
        }
    }

    /// The forged metadata of the attack: an admin named by bare keys.
    private static func forgedAdmin(_ id: String) -> CallOptions {
        CallOptions(metadata: ["x-user-id": id, "x-user-role": "admin"])
    }

    @Test("issue 10: the notification service's certificate with forged admin metadata cannot make its owner an admin")
    func forgedAdminFromAnotherServiceIsDenied() async throws {
        try await withService { client in
            let gateway = client("gateway")
            let user = try await gateway.register()
            let attack = await rpcError {
                _ = try await client("notification").updateUser(
                    .with { $0.id = user.id; $0.role = .admin }, options: Self.forgedAdmin(user.id)
                )
            }
            #expect(attack?.code == .permissionDenied)
            #expect(attack?.message == "the caller may not call \(UserServiceMethod.updateUser)")
            #expect(try await gateway.user(user.id).role == .user)
            // Logging in again gives a plain user's token.
            let token = try await gateway.login(user.email).accessToken
            #expect(try await TokenAuthority(signingKey: Fixture.signingKey).verify(token).role == .user)
        }
    }

    @Test("the gateway's certificate with forged identity metadata and no token has no rights at all")
    func forgedMetadataFromTheGatewayIsAnonymous() async throws {
        try await withService { client in
            let gateway = client("gateway")
            let user = try await gateway.register()
            let promote = await rpcError {
                _ = try await gateway.updateUser(.with { $0.id = user.id; $0.role = .admin }, options: Self.forgedAdmin(user.id))
            }
            #expect(promote?.code == .unauthenticated)
            let list = await rpcError { _ = try await gateway.listUsers(.init(), options: Self.forgedAdmin(user.id)) }
            #expect(list?.code == .unauthenticated)
            #expect(try await gateway.user(user.id).role == .user)
        }
    }

    @Test("a call with no identity metadata at all gets no rights: anonymous, never internal")
    func noMetadataIsAnonymous() async throws {
        try await withService { client in
            let gateway = client("gateway")
            let user = try await gateway.register()
            let read = await rpcError { _ = try await gateway.getUser(.with { $0.id = user.id }) }
            #expect(read?.code == .unauthenticated)
            let list = await rpcError { _ = try await gateway.listUsers(.init()) }
            #expect(list?.code == .unauthenticated)
            let deactivate = await rpcError { _ = try await gateway.deactivateUser(.with { $0.id = user.id }) }
            #expect(deactivate?.code == .unauthenticated)
            let me = await rpcError { _ = try await gateway.getCurrentUser(.init()) }
            #expect(me?.code == .unauthenticated)
            #expect(try await gateway.user(user.id).isActive)
        }
    }

    @Test("a forged, an expired and an other-key token from the gateway are UNAUTHENTICATED at the service", arguments: ["forged", "expired", "other key", "garbage"])
    func badTokensAreUnauthenticated(_ kind: String) async throws {
        try await withService { client in
            let gateway = client("gateway")
            let user = try await gateway.register()
            let token: String
            switch kind {
            case "forged":
                // A plain user's token whose payload claims admin: the signature no longer matches.
                let real = try await TestSigning.token(userID: user.id, role: .user).split(separator: ".")
                let admin = try await TestSigning.token(userID: user.id, role: .admin).split(separator: ".")
                token = [real[0], admin[1], real[2]].joined(separator: ".")
            case "expired":
                token = try await TokenAuthority(signingKey: Fixture.signingKey)
                    .issue(userID: user.id, role: .admin, lifetime: 60, now: Date().addingTimeInterval(-3600)).token
            case "other key":
                token = try await TokenAuthority(signingKey: "another-signing-key-entirely-0123456789")
                    .issue(userID: user.id, role: .admin, lifetime: 3600).token
            default:
                token = "not.a.token"
            }
            let options = CallOptions(metadata: ["authorization": "Bearer \(token)"])
            let error = await rpcError { _ = try await gateway.getCurrentUser(.init(), options: options) }
            #expect(error?.code == .unauthenticated, "\(kind)")
            let list = await rpcError { _ = try await gateway.listUsers(.init(), options: options) }
            #expect(list?.code == .unauthenticated, "\(kind)")
        }
    }

    @Test("identity sent by a service other than the gateway is ignored: even a garbage token does not change who it is")
    func identityFromOtherServicesIsIgnored() async throws {
        try await withService { client in
            let gateway = client("gateway")
            let user = try await gateway.register()
            let someoneElse = try await TestSigning.token(userID: Validation.newID(), role: .user)
            for metadata: Metadata in [
                ["authorization": "Bearer garbage"],
                ["authorization": "Bearer \(someoneElse)"],
                ["x-user-id": Validation.newID(), "x-user-role": "user"],
            ] {
                // GetUser is the order service's to call; as itself it reads any user.
                let read = try await client("order").getUser(.with { $0.id = user.id }, options: CallOptions(metadata: metadata))
                #expect(read.id == user.id)
            }
        }
    }

    @Test("GetUser: the gateway and the order service may call it; the notification service may not")
    func getUserPolicy() async throws {
        try await withService { client in
            let user = try await client("gateway").register()
            #expect(try await client("order").getUser(.with { $0.id = user.id }).id == user.id)
            #expect(try await client("gateway").getUser(.with { $0.id = user.id }, options: try await asUser(user.id)).id == user.id)
            let denied = await rpcError { _ = try await client("notification").getUser(.with { $0.id = user.id }) }
            #expect(denied?.code == .permissionDenied)
        }
    }

    @Test("GetAccountStatus is the gateway's alone")
    func accountStatusPolicy() async throws {
        try await withService { client in
            let user = try await client("gateway").register()
            let status = try await client("gateway").getAccountStatus(.with { $0.id = user.id })
            #expect(status.isActive && status.tokenVersion == 0 && status.role == .user)
            for other in ["order", "product", "notification"] {
                let denied = await rpcError { _ = try await client(other).getAccountStatus(.with { $0.id = user.id }) }
                #expect(denied?.code == .permissionDenied, "\(other)")
            }
        }
    }
}
