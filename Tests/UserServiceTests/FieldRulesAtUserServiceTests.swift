import FrameRPC
import ServiceTesting
import ShopAPI
import Testing

/// The `(shop.api.rules)` of user.proto that the product service's rules
/// do not cover, enforced by the generated registration over real TCP.
@Suite("Field rules at the user service")
struct FieldRulesAtUserServiceTests {
    @Test("format email: an address without a domain is INVALID_ARGUMENT naming email and format")
    func formatEmail() async throws {
        try await withUserService { client throws in
            let error = await rpcError { _ = try await client.register(email: "ada@") }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "email: must be an email address (format)")
        }
    }

    @Test("min_length: a password of 7 characters is refused")
    func minLength() async throws {
        try await withUserService { client throws in
            let error = await rpcError { _ = try await client.register(password: "seven77") }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "password: must be at least 8 characters (min_length)")
        }
    }

    @Test("defined_only: a role number the enum does not declare is refused")
    func definedOnly() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let error = await rpcError {
                _ = try await client.updateUser(.with {
                    $0.id = user.id
                    $0.role = .UNRECOGNIZED(7)
                }, options: try await Fixture.asAdmin())
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "role: must be one of the enum's defined values (defined_only)")
        }
    }
}
