import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("ListNotifications")
struct ListNotificationsTests {
    /// Sends `count` notifications to `user`, one after the other; returns
    /// their ids in the order sent.
    private func send(_ count: Int, to user: String, client: NotificationTestClient) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            ids.append(try await client.notify(notifyRequest(user: user, data: ["order_id": "order-\(index)"])).id)
        }
        return ids
    }

    @Test("a user sees only their own notifications, newest first")
    func userSeesOwnNewestFirst() async throws {
        try await withNotificationService { client in
            let alice = Validation.newID()
            let bob = Validation.newID()
            let aliceIDs = try await send(3, to: alice, client: client)
            _ = try await send(2, to: bob, client: client)
            let listed = try await client.listNotifications(listRequest(), options: asUser(alice))
            #expect(listed.notifications.map(\.id) == aliceIDs.reversed())
            #expect(listed.notifications.allSatisfy { $0.userID == alice })
        }
    }

    @Test("a user naming themselves in user_id sees their own")
    func userNamingThemselves() async throws {
        try await withNotificationService { client in
            let alice = Validation.newID()
            let ids = try await send(1, to: alice, client: client)
            let listed = try await client.listNotifications(listRequest(user: alice), options: asUser(alice))
            #expect(listed.notifications.map(\.id) == ids)
        }
    }

    @Test("a user asking for someone else's notifications gets PERMISSION_DENIED")
    func userAskingForOthers() async throws {
        try await withNotificationService { client in
            let alice = Validation.newID()
            let bob = Validation.newID()
            _ = try await send(1, to: bob, client: client)
            let error = await rpcError {
                _ = try await client.listNotifications(listRequest(user: bob), options: asUser(alice))
            }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test("an admin sees one user's notifications by user_id, or everyone's without it")
    func adminSeesAny() async throws {
        try await withNotificationService { client in
            let alice = Validation.newID()
            let bob = Validation.newID()
            let aliceIDs = try await send(2, to: alice, client: client)
            let bobIDs = try await send(2, to: bob, client: client)
            let admin = asAdmin()
            let bobs = try await client.listNotifications(listRequest(user: bob), options: admin)
            #expect(bobs.notifications.map(\.id) == bobIDs.reversed())
            let all = try await client.listNotifications(listRequest(), options: admin)
            #expect(all.notifications.map(\.id) == (aliceIDs + bobIDs).reversed())
        }
    }

    @Test("an internal call (no identity) may list anyone's")
    func internalSeesAny() async throws {
        try await withNotificationService { client in
            let alice = Validation.newID()
            let ids = try await send(2, to: alice, client: client)
            let listed = try await client.listNotifications(listRequest(user: alice))
            #expect(listed.notifications.map(\.id) == ids.reversed())
        }
    }

    @Test("a role without a user id is UNAUTHENTICATED")
    func roleWithoutUser() async throws {
        try await withNotificationService { client in
            let error = await rpcError {
                _ = try await client.listNotifications(listRequest(), options: CallOptions(metadata: [Caller.roleKey: "admin"]))
            }
            #expect(error?.code == .unauthenticated)
        }
    }

    @Test("a malformed user_id is INVALID_ARGUMENT")
    func malformedUserID() async throws {
        try await withNotificationService { client in
            let error = await rpcError {
                _ = try await client.listNotifications(listRequest(user: "nope"), options: asAdmin())
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("user_id:") == true)
        }
    }

    @Test("skip and limit page through the list, newest first")
    func pagination() async throws {
        try await withNotificationService { client in
            let alice = Validation.newID()
            let newestFirst = Array(try await send(5, to: alice, client: client).reversed())
            let me = asUser(alice)
            let first = try await client.listNotifications(listRequest(skip: 0, limit: 2), options: me)
            let second = try await client.listNotifications(listRequest(skip: 2, limit: 2), options: me)
            let last = try await client.listNotifications(listRequest(skip: 4, limit: 2), options: me)
            let beyond = try await client.listNotifications(listRequest(skip: 5, limit: 2), options: me)
            #expect(first.notifications.map(\.id) == Array(newestFirst[0..<2]))
            #expect(second.notifications.map(\.id) == Array(newestFirst[2..<4]))
            #expect(last.notifications.map(\.id) == Array(newestFirst[4..<5]))
            #expect(beyond.notifications.isEmpty)
        }
    }

    @Test("limit 0 means the default of 100, and 1000 is the most allowed")
    func limitDefaultAndMaximum() async throws {
        try await withNotificationService { client in
            let alice = Validation.newID()
            _ = try await send(3, to: alice, client: client)
            let byDefault = try await client.listNotifications(listRequest(limit: 0), options: asUser(alice))
            #expect(byDefault.notifications.count == 3)
            let atMaximum = try await client.listNotifications(listRequest(limit: 1000), options: asUser(alice))
            #expect(atMaximum.notifications.count == 3)
        }
    }

    @Test("out-of-range paging is INVALID_ARGUMENT naming the field", arguments: [
        ("skip", listRequest(skip: -1)),
        ("limit", listRequest(limit: -1)),
        ("limit", listRequest(limit: 1001)),
    ])
    func pagingOutOfRange(field: String, request: Shop_Notification_V1_ListNotificationsRequest) async throws {
        try await withNotificationService { client in
            let error = await rpcError {
                _ = try await client.listNotifications(request, options: asUser(Validation.newID()))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(field):") == true)
        }
    }
}
