import FrameRPC
import Foundation
import ServiceTesting
import ShopAPI
import Testing

@Suite("GetCurrentUser and GetUser")
struct ReadUserTests {
    @Test("GetCurrentUser answers with the caller's own account")
    func currentUser() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let me = try await client.getCurrentUser(.init(), options: try await Fixture.asUser(user.id))
            #expect(me == user)
        }
    }

    @Test("GetCurrentUser without a caller identity is UNAUTHENTICATED")
    func currentUserAnonymous() async throws {
        try await withUserService { client throws in
            let error = await rpcError { _ = try await client.getCurrentUser(.init()) }
            #expect(error?.code == .unauthenticated)
        }
    }

    @Test("GetCurrentUser for an identity with no account is NOT_FOUND")
    func currentUserUnknown() async throws {
        try await withUserService { client throws in
            let error = await rpcError { _ = try await client.getCurrentUser(.init(), options: try await Fixture.asUser(UUID().uuidString.lowercased())) }
            #expect(error?.code == .notFound)
        }
    }

    @Test("a user reads their own account; an admin reads anyone's")
    func getUserAllowed() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let request = Shop_User_V1_GetUserRequest.with { $0.id = user.id }
            #expect(try await client.getUser(request, options: try await Fixture.asUser(user.id)) == user)
            #expect(try await client.getUser(request, options: try await Fixture.asAdmin()) == user)
        }
    }

    @Test("the id may be sent in upper case")
    func getUserUpperCase() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            #expect(try await client.user(user.id.uppercased()) == user)
        }
    }

    @Test("a user reading someone else's account is PERMISSION_DENIED")
    func getUserOther() async throws {
        try await withUserService { client throws in
            let owner = try await client.register()
            let other = try await client.register()
            let error = await rpcError { _ = try await client.getUser(.with { $0.id = owner.id }, options: try await Fixture.asUser(other.id)) }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test("an unknown id is NOT_FOUND; a malformed one INVALID_ARGUMENT naming id")
    func getUserErrors() async throws {
        try await withUserService { client throws in
            let unknown = await rpcError { _ = try await client.user(UUID().uuidString) }
            #expect(unknown?.code == .notFound)
            let malformed = await rpcError { _ = try await client.user("nope") }
            #expect(malformed?.code == .invalidArgument)
            #expect(malformed?.message.hasPrefix("id:") == true)
        }
    }
}

@Suite("ListUsers")
struct ListUsersTests {
    @Test("admins list users in the order they were created")
    func ordered() async throws {
        try await withUserService { client throws in
            var created: [Shop_User_V1_User] = []
            for index in 0..<5 { created.append(try await client.register(email: Fixture.newEmail("list\(index)"))) }
            #expect(try await client.listUsers(.init(), options: try await Fixture.asAdmin()).users == created)
        }
    }

    @Test("skip and limit page through the users; limit 0 means 100")
    func pagination() async throws {
        try await withUserService { client throws in
            var created: [Shop_User_V1_User] = []
            for index in 0..<5 { created.append(try await client.register(email: Fixture.newEmail("page\(index)"))) }
            func page(_ skip: Int32, _ limit: Int32) async throws -> [Shop_User_V1_User] {
                try await client.listUsers(.with { $0.skip = skip; $0.limit = limit }, options: try await Fixture.asAdmin()).users
            }
            #expect(try await page(0, 2) == Array(created[0..<2]))
            #expect(try await page(2, 2) == Array(created[2..<4]))
            #expect(try await page(4, 2) == [created[4]])
            #expect(try await page(5, 2) == [])
            #expect(try await page(1000, 10) == [])
            #expect(try await page(0, 0) == created)
            #expect(try await page(0, 1000) == created)
            #expect(try await page(3, 0) == Array(created[3...]))
        }
    }

    @Test("limit 0 returns at most 100 users")
    func defaultLimit() async throws {
        try await withUserService { client throws in
            // Ten at a time: all 101 at once can exceed the password
            // pool's queue on a loaded machine (RESOURCE_EXHAUSTED, its
            // overload answer), which is not what this test is about.
            for batch in stride(from: 0, to: 101, by: 10) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in batch..<min(batch + 10, 101) {
                        group.addTask { _ = try await client.register(email: Fixture.newEmail("many\(index)")) }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(try await client.listUsers(.init(), options: try await Fixture.asAdmin()).users.count == 100)
            #expect(try await client.listUsers(.with { $0.limit = 1000 }, options: try await Fixture.asAdmin()).users.count == 101)
        }
    }

    @Test("a negative skip or limit, or a limit over 1000, is INVALID_ARGUMENT naming the field", arguments: [
        (Int32(-1), Int32(10), "skip"),
        (Int32(0), Int32(-1), "limit"),
        (Int32(0), Int32(1001), "limit"),
    ])
    func badPage(skip: Int32, limit: Int32, field: String) async throws {
        try await withUserService { client throws in
            let error = await rpcError { _ = try await client.listUsers(.with { $0.skip = skip; $0.limit = limit }, options: try await Fixture.asAdmin()) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(field):") == true)
        }
    }

    @Test("a plain user listing users is PERMISSION_DENIED")
    func notAdmin() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let error = await rpcError { _ = try await client.listUsers(.init(), options: try await Fixture.asUser(user.id)) }
            #expect(error?.code == .permissionDenied)
        }
    }
}
