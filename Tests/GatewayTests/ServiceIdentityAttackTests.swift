import FrameRPC
import Foundation
@testable import Gateway
import ServiceTesting
import ShopAPI
import ShopAuth
import Testing

/// Issue 10's attack end to end, as a new user would try it: register
/// through the gateway, then call the user service's port directly with a
/// valid certificate of a service the policy does not allow, with forged
/// admin metadata; then log in again through the gateway.
@Suite("Issue 10's attack through the whole shop")
struct ServiceIdentityAttackTests {
    @Test("UpdateUser{role: ADMIN} from the notification service's certificate with forged metadata: PERMISSION_DENIED, still a user")
    func promotionFromAnotherServiceFails() async throws {
        try await withShopServices { upstreams in
            try await withGateway(GatewayHarness.configuration(upstreams: upstreams)) { http, _ in
                let user = try await http.register()
                let direct = RPCClient.testing(port: upstreams["user"]!.port, calling: "user", as: "notification")
                defer { direct.shutdown() }
                let attack = await rpcError {
                    _ = try await UserServiceClient(direct).updateUser(
                        .with { $0.id = user.id; $0.role = .admin },
                        options: CallOptions(metadata: ["x-user-id": user.id, "x-user-role": "admin"])
                    )
                }
                #expect(attack?.code == .permissionDenied)
                let token = try await http.login(user.email)
                let list = try await http.get("/api/users/", token: token)
                #expect(list.status == 403, "\(list)")
            }
        }
    }

    @Test("the same call with the gateway's certificate but only forged metadata acts for nobody: UNAUTHENTICATED")
    func promotionWithForgedMetadataFails() async throws {
        try await withShopServices { upstreams in
            try await withGateway(GatewayHarness.configuration(upstreams: upstreams)) { http, _ in
                let user = try await http.register()
                let direct = RPCClient.testing(port: upstreams["user"]!.port, calling: "user", as: "gateway")
                defer { direct.shutdown() }
                let attack = await rpcError {
                    _ = try await UserServiceClient(direct).updateUser(
                        .with { $0.id = user.id; $0.role = .admin },
                        options: CallOptions(metadata: ["x-user-id": user.id, "x-user-role": "admin"])
                    )
                }
                #expect(attack?.code == .unauthenticated)
                let token = try await http.login(user.email)
                #expect(try await http.get("/api/users/", token: token).status == 403)
            }
        }
    }

    @Test("a forged, expired or other-key token is 401 at the gateway as well as UNAUTHENTICATED at the service")
    func badTokensAtTheGateway() async throws {
        try await withShop { http in
            let user = try await http.newUser()
            let parts = user.token.split(separator: ".")
            let adminPayload = try await Tokens.valid(user.id, role: .admin).split(separator: ".")[1]
            let forged = [parts[0], adminPayload, parts[2]].joined(separator: ".")
            for token in [forged, try await Tokens.expired(user.id), try await Tokens.wrongSignature(user.id)] {
                let reply = try await http.get("/api/users/me", token: token)
                #expect(reply.status == 401, "\(reply)")
            }
        }
    }
}
