import FrameRPC
import Foundation
import ServiceTesting
import ShopAPI
import Testing

@Suite("CreateUser")
struct CreateUserTests {
    @Test("a new user is active, a plain user, and stored with a normalized email")
    func happyPath() async throws {
        try await withUserService { client throws in
            let before = Date().addingTimeInterval(-1)
            // The email's format rule allows no surrounding blanks; case is normalized.
            let user = try await client.register(email: "Ada.Lovelace@Example.COM", fullName: "  Ada Lovelace ")
            #expect(UUID(uuidString: user.id) != nil)
            #expect(user.id == user.id.lowercased())
            #expect(user.email == "ada.lovelace@example.com")
            #expect(user.fullName == "Ada Lovelace")
            #expect(user.isActive)
            #expect(user.role == .user)
            #expect(user.createdAt.date > before && user.createdAt.date <= Date().addingTimeInterval(1))
            #expect(try await client.user(user.id) == user)
        }
    }

    @Test("is_active false is honoured")
    func inactive() async throws {
        try await withUserService { client throws in
            let user = try await client.register(isActive: false)
            #expect(!user.isActive)
            #expect(try await client.user(user.id).isActive == false)
        }
    }

    @Test("a taken email is ALREADY_EXISTS, also in other letter case; the same request twice too")
    func duplicate() async throws {
        try await withUserService { client throws in
            let email = Fixture.newEmail()
            _ = try await client.register(email: email)
            let again = await rpcError { _ = try await client.register(email: email) }
            #expect(again?.code == .alreadyExists)
            #expect(again?.message.hasPrefix("email:") == true)
            let shouted = await rpcError { _ = try await client.register(email: email.uppercased()) }
            #expect(shouted?.code == .alreadyExists)
        }
    }

    @Test("concurrent registrations of one email (in different cases) create exactly one user")
    func concurrentDuplicates() async throws {
        try await withUserService { client throws in
            let email = Fixture.newEmail("race")
            let variants = [email, email.uppercased(), email.capitalized] + Array(repeating: email, count: 7)
            let outcomes = await withTaskGroup(of: RPCError.Code?.self) { group in
                for variant in variants {
                    group.addTask {
                        await rpcError { _ = try await client.register(email: variant) }?.code
                    }
                }
                return await group.reduce(into: [RPCError.Code?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.filter { $0 == .alreadyExists }.count == variants.count - 1)
            let all = try await client.listUsers(.with { $0.limit = 1000 }, options: try await Fixture.asAdmin())
            #expect(all.users.filter { $0.email == email }.count == 1)
        }
    }

    @Test("invalid fields are INVALID_ARGUMENT naming the field", arguments: [
        ("", "Ada", "longenough", "email"),
        ("not-an-email", "Ada", "longenough", "email"),
        ("two@@example.com", "Ada", "longenough", "email"),
        ("ada@localhost", "Ada", "longenough", "email"),
        ("ada @example.com", "Ada", "longenough", "email"),
        ("ada@example..com", "Ada", "longenough", "email"),
        (".ada@example.com", "Ada", "longenough", "email"),
        ("ada@example.com", "", "longenough", "full_name"),
        ("ada@example.com", "   ", "longenough", "full_name"),
        ("ada@example.com", String(repeating: "n", count: 201), "longenough", "full_name"),
        ("ada@example.com", "Ada", "", "password"),
        ("ada@example.com", "Ada", "seven77", "password"),
        ("ada@example.com", "Ada", String(repeating: "p", count: 1025), "password"),
    ])
    func invalidFields(email: String, fullName: String, password: String, field: String) async throws {
        try await withUserService { client throws in
            let error = await rpcError { _ = try await client.register(email: email, fullName: fullName, password: password) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(field):") == true, "\(error?.message ?? "no error")")
        }
    }

    @Test("a password of exactly 8 characters is enough")
    func minimumPassword() async throws {
        try await withUserService { client throws in
            let email = Fixture.newEmail()
            _ = try await client.register(email: email, password: "12345678")
            #expect(try await client.login(email, "12345678").tokenType == "bearer")
        }
    }
}
