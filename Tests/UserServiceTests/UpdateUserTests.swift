import FrameRPC
import Foundation
import ServiceTesting
import ShopAPI
import Testing

@Suite("UpdateUser")
struct UpdateUserTests {
    @Test("only the fields present change")
    func partial() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let updated = try await client.updateUser(.with { $0.id = user.id; $0.fullName = " Ada King " }, options: try await Fixture.asUser(user.id))
            var expected = user
            expected.fullName = "Ada King"
            #expect(updated == expected)
            #expect(try await client.user(user.id) == expected)
            // The password did not change.
            _ = try await client.login(user.email)
        }
    }

    @Test("a request with no fields changes nothing and returns the user; the same update twice gives the same user")
    func emptyAndRepeated() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            #expect(try await client.updateUser(.with { $0.id = user.id }, options: try await Fixture.asAdmin()) == user)
            let request = Shop_User_V1_UpdateUserRequest.with { $0.id = user.id; $0.fullName = "Grace Hopper" }
            let first = try await client.updateUser(request, options: try await Fixture.asAdmin())
            let second = try await client.updateUser(request, options: try await Fixture.asAdmin())
            #expect(first == second)
        }
    }

    @Test("a new email is normalized and then used to log in")
    func changeEmail() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let newEmail = Fixture.newEmail("moved")
            let updated = try await client.updateUser(.with { $0.id = user.id; $0.email = newEmail.uppercased() }, options: try await Fixture.asUser(user.id))
            #expect(updated.email == newEmail)
            _ = try await client.login(newEmail)
            let old = await rpcError { _ = try await client.login(user.email) }
            #expect(old?.code == .unauthenticated)
        }
    }

    @Test("keeping one's own email (in any case) is not a conflict")
    func sameEmail() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let updated = try await client.updateUser(.with { $0.id = user.id; $0.email = user.email.uppercased() }, options: try await Fixture.asAdmin())
            #expect(updated == user)
        }
    }

    @Test("taking another user's email (in any case) is ALREADY_EXISTS")
    func emailTaken() async throws {
        try await withUserService { client throws in
            let first = try await client.register()
            let second = try await client.register()
            let error = await rpcError { _ = try await client.updateUser(.with { $0.id = second.id; $0.email = first.email.uppercased() }, options: try await Fixture.asAdmin()) }
            #expect(error?.code == .alreadyExists)
            #expect(try await client.user(second.id) == second)
        }
    }

    @Test("a new password replaces the old one")
    func changePassword() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            _ = try await client.updateUser(.with { $0.id = user.id; $0.password = "a brand new secret" }, options: try await Fixture.asUser(user.id))
            _ = try await client.login(user.email, "a brand new secret")
            let old = await rpcError { _ = try await client.login(user.email) }
            #expect(old?.code == .unauthenticated)
        }
    }

    @Test("an admin changes role and is_active")
    func adminFields() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let updated = try await client.updateUser(.with { $0.id = user.id; $0.role = .admin; $0.isActive = false }, options: try await Fixture.asAdmin())
            #expect(updated.role == .admin)
            #expect(!updated.isActive)
            let back = try await client.updateUser(.with { $0.id = user.id; $0.isActive = true }, options: try await Fixture.asAdmin())
            #expect(back.isActive && back.role == .admin)
        }
    }

    @Test("a user changing their own role or is_active is PERMISSION_DENIED and nothing changes")
    func userCannotChangeAdminFields() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let role = await rpcError { _ = try await client.updateUser(.with { $0.id = user.id; $0.role = .admin }, options: try await Fixture.asUser(user.id)) }
            #expect(role?.code == .permissionDenied)
            let active = await rpcError {
                _ = try await client.updateUser(.with { $0.id = user.id; $0.isActive = true; $0.fullName = "Sneaky" }, options: try await Fixture.asUser(user.id))
            }
            #expect(active?.code == .permissionDenied)
            #expect(try await client.user(user.id) == user)
        }
    }

    @Test("a user changing someone else's account is PERMISSION_DENIED")
    func otherUser() async throws {
        try await withUserService { client throws in
            let owner = try await client.register()
            let other = try await client.register()
            let error = await rpcError { _ = try await client.updateUser(.with { $0.id = owner.id; $0.fullName = "Mallory" }, options: try await Fixture.asUser(other.id)) }
            #expect(error?.code == .permissionDenied)
            #expect(try await client.user(owner.id) == owner)
        }
    }

    @Test("an unknown id is NOT_FOUND (with or without a new password)")
    func unknown() async throws {
        try await withUserService { client throws in
            let id = UUID().uuidString
            let name = await rpcError { _ = try await client.updateUser(.with { $0.id = id; $0.fullName = "Nobody" }, options: try await Fixture.asAdmin()) }
            #expect(name?.code == .notFound)
            let password = await rpcError { _ = try await client.updateUser(.with { $0.id = id; $0.password = "long enough" }, options: try await Fixture.asAdmin()) }
            #expect(password?.code == .notFound)
        }
    }

    @Test("invalid fields are INVALID_ARGUMENT naming the field", arguments: [
        ("id", Shop_User_V1_UpdateUserRequest.with { $0.id = "nope"; $0.fullName = "Ada" }),
        ("email", Shop_User_V1_UpdateUserRequest.with { $0.email = "nope" }),
        ("email", Shop_User_V1_UpdateUserRequest.with { $0.email = "" }),
        ("full_name", Shop_User_V1_UpdateUserRequest.with { $0.fullName = " " }),
        ("password", Shop_User_V1_UpdateUserRequest.with { $0.password = "short" }),
        ("role", Shop_User_V1_UpdateUserRequest.with { $0.role = .unspecified }),
        ("role", Shop_User_V1_UpdateUserRequest.with { $0.role = .UNRECOGNIZED(7) }),
    ])
    func invalid(field: String, template: Shop_User_V1_UpdateUserRequest) async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            var request = template
            if request.id.isEmpty { request.id = user.id }
            let error = await rpcError { _ = try await client.updateUser(request, options: try await Fixture.asAdmin()) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(field):") == true, "\(error?.message ?? "no error")")
            #expect(try await client.user(user.id) == user)
        }
    }
}

@Suite("DeactivateUser")
struct DeactivateUserTests {
    @Test("an admin deactivates a user, who stays readable but inactive; twice is fine")
    func deactivate() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            _ = try await client.deactivateUser(.with { $0.id = user.id }, options: try await Fixture.asAdmin())
            #expect(try await client.user(user.id).isActive == false)
            _ = try await client.deactivateUser(.with { $0.id = user.id }, options: try await Fixture.asAdmin())
            #expect(try await client.user(user.id).isActive == false)
        }
    }

    @Test("an admin deactivates an account")
    func adminDeactivates() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            _ = try await client.deactivateUser(.with { $0.id = user.id }, options: try await Fixture.asAdmin())
            #expect(try await client.user(user.id).isActive == false)
        }
    }

    @Test("a plain user is PERMISSION_DENIED, even for their own account")
    func notAdmin() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let error = await rpcError { _ = try await client.deactivateUser(.with { $0.id = user.id }, options: try await Fixture.asUser(user.id)) }
            #expect(error?.code == .permissionDenied)
            #expect(try await client.user(user.id).isActive)
        }
    }

    @Test("an unknown id is NOT_FOUND; a malformed one INVALID_ARGUMENT naming id")
    func errors() async throws {
        try await withUserService { client throws in
            let unknown = await rpcError { _ = try await client.deactivateUser(.with { $0.id = UUID().uuidString }, options: try await Fixture.asAdmin()) }
            #expect(unknown?.code == .notFound)
            let malformed = await rpcError { _ = try await client.deactivateUser(.with { $0.id = "42" }, options: try await Fixture.asAdmin()) }
            #expect(malformed?.code == .invalidArgument)
            #expect(malformed?.message.hasPrefix("id:") == true)
        }
    }
}
