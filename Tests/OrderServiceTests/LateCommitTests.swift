import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

/// The saga's late commit (issue 11): the order is written confirmed, but
/// its commit reaches the inventory service only after the reservation
/// expired. Exactly one order may end up holding a unit; every order's end
/// is explained by its status, its reason and its notifications.
@Suite("Late commits")
struct LateCommitTests {
    /// A reservation TTL of one second, swept often.
    static let shortTTL = [
        "SHOP_RESERVATION_TTL_SECONDS": "1",
        "SHOP_RESERVATION_SWEEP_SECONDS": "0.1",
    ]

    /// Places an order for `user`, retrying while the services reconnect
    /// after a restart (one idempotency key, so at most one order).
    private func placeEventually(_ shop: Shop, _ items: [(product: String, quantity: Int32)], by user: String) async throws -> Result<Shop_Order_V1_Order, RPCError> {
        let key = "order-\(Validation.newID())"
        var outcome: Result<Shop_Order_V1_Order, RPCError> = .failure(RPCError(code: .unavailable, message: "not tried"))
        _ = await eventually {
            do {
                outcome = .success(try await shop.order(items, by: user, key: key))
                return true
            } catch let error as RPCError where error.code == .unavailable {
                return false
            } catch let error as RPCError {
                outcome = .failure(error)
                return true
            } catch {
                return false
            }
        }
        return outcome
    }

    /// Places an order whose reservation expires before its commit can be
    /// delivered: the inventory service stops right after Reserve, stays
    /// down past the TTL and comes back (its first sweep releases the
    /// reservation), while the front keeps the commit from getting through.
    private func placeLate(_ shop: Shop, front: InventoryFront, _ items: [(product: String, quantity: Int32)], by user: String) async throws -> Shop_Order_V1_Order {
        let inventory = try #require(shop.stoppable)
        front.stopInventory(afterNextReserve: inventory)
        front.holdCommits(ofNext: 1)
        let order = try await shop.order(items, by: user)
        try await Task.sleep(for: .milliseconds(1_500))
        try await inventory.restart()
        return order
    }

    /// `user`'s notifications once there are at least `count` (newest first).
    private func notifications(of user: String, count: Int, in shop: Shop) async throws -> [Shop_Notification_V1_Notification] {
        var latest: [Shop_Notification_V1_Notification] = []
        _ = try await eventually {
            latest = try await shop.notifications.listNotifications(.init(), options: asUser(user)).notifications
            return latest.count >= count
        }
        return latest
    }

    @Test("a commit that arrives after the TTL, when the unit was sold meanwhile, cancels its order with a reason and a notification; exactly one order holds the unit")
    func lateCommitAfterSale() async throws {
        let front = InventoryFront()
        try await withShop(stoppable: .inventory, inventorySettings: Self.shortTTL, inventoryFront: front) { shop in
            let (alice, bob) = (try await shop.newUser(), try await shop.newUser())
            let lamp = try await shop.newProduct(price: 1250, stock: 1, name: "Lamp")
            let late = try await placeLate(shop, front: front, [(lamp, 1)], by: alice)
            #expect(late.status == .confirmed)
            #expect(front.heldOrders == [late.id])
            let released = await eventually { (try? await shop.stock(lamp))?.available == 1 }
            try #require(released, "the expired reservation was not released")

            // A second customer buys the unit that expired.
            let sold = try await placeEventually(shop, [(lamp, 1)], by: bob).get()
            #expect(sold.status == .confirmed)

            // The late commit gets through; the watcher sees why the order ends.
            let watch = CallOptions(timeout: .seconds(60), metadata: asUser(alice).metadata)
            let seen = try await shop.orders.watchOrder(.with { $0.id = late.id }, options: watch) { stream in
                var seen: [Shop_Order_V1_Order] = []
                for try await update in stream {
                    seen.append(update)
                    if seen.count == 1 { front.releaseCommits(of: late.id) }
                }
                return seen
            }
            #expect(seen.map(\.status) == [.confirmed, .cancelled])
            let cancelled = try #require(seen.last)
            #expect(cancelled.cancellationReason == .stockUnavailable)
            #expect(cancelled.statusDetail.contains(lamp))
            #expect(cancelled.statusDetail.contains("sold out"))

            // Exactly one confirmed order holds the unit, and stock is conserved.
            let orders = try await shop.orders.listOrders(.init(), options: asAdmin()).orders
            #expect(Set(orders.map(\.id)) == [late.id, sold.id])
            #expect(orders.first { $0.id == sold.id }?.status == .confirmed)
            #expect(orders.first { $0.id == late.id }?.status == .cancelled)
            let held = orders.filter { $0.status != .cancelled }.flatMap(\.items).reduce(Int32(0)) { $0 + $1.quantity }
            let stock = try await shop.stock(lamp)
            #expect(stock.available == 0 && stock.reserved == 0)
            #expect(stock.available + stock.reserved + held == 1)

            // Each customer is told how their order ended.
            let aliceHeard = try await notifications(of: alice, count: 2, in: shop)
            #expect(aliceHeard.map(\.kind) == ["order_cancelled_out_of_stock", "order_confirmed"])
            #expect(aliceHeard.allSatisfy { $0.subject.contains(late.id) })
            #expect(aliceHeard.first?.body.contains(lamp) == true)
            let bobHeard = try await notifications(of: bob, count: 1, in: shop)
            #expect(bobHeard.map(\.kind) == ["order_confirmed"])
            #expect(bobHeard.first?.subject.contains(sold.id) == true)

            // Nothing is left to deliver: the release of the cancelled order
            // went through and the unit stays sold to the second customer.
            try await Task.sleep(for: .milliseconds(300))
            let after = try await shop.stock(lamp)
            #expect(after.available == 0 && after.reserved == 0)
        }
    }

    @Test("a late commit whose units are still free takes them again, and the order stays confirmed")
    func lateCommitRetakes() async throws {
        let front = InventoryFront()
        try await withShop(stoppable: .inventory, inventorySettings: Self.shortTTL, inventoryFront: front) { shop in
            let (alice, bob) = (try await shop.newUser(), try await shop.newUser())
            let lamp = try await shop.newProduct(price: 1250, stock: 1, name: "Lamp")
            let late = try await placeLate(shop, front: front, [(lamp, 1)], by: alice)
            let released = await eventually { (try? await shop.stock(lamp))?.available == 1 }
            try #require(released, "the expired reservation was not released")

            front.releaseCommits(of: late.id)
            // The unit leaves `available` without coming back to `reserved`:
            // it is committed to the late order.
            let committed = await eventually {
                guard let stock = try? await shop.stock(lamp) else { return false }
                return stock.available == 0 && stock.reserved == 0
            }
            #expect(committed)
            let order = try await shop.orders.getOrder(.with { $0.id = late.id }, options: asUser(alice))
            #expect(order.status == .confirmed)
            #expect(order.cancellationReason == .unspecified)

            // The unit is really taken: nobody else can buy it.
            let refused = try await placeEventually(shop, [(lamp, 1)], by: bob)
            #expect((try? refused.get()) == nil)
            if case .failure(let error) = refused { #expect(error.code == .failedPrecondition) }
            let heard = try await notifications(of: alice, count: 1, in: shop)
            #expect(heard.map(\.kind) == ["order_confirmed"])
        }
    }

    @Test("another order's commit is delivered while one order's commit keeps failing")
    func failingCommitBlocksOnlyItsOrder() async throws {
        let front = InventoryFront()
        try await withShop(inventoryFront: front) { shop in
            let (alice, bob) = (try await shop.newUser(), try await shop.newUser())
            let pen = try await shop.newProduct(price: 100, stock: 10, name: "Pen")
            // Both commits fail at first, so both are left to the outbox.
            front.holdCommits(ofNext: 2)
            let stuck = try await shop.order([(pen, 1)], by: alice)
            let other = try await shop.order([(pen, 2)], by: bob)
            #expect(try await shop.stock(pen).reserved == 3)

            // The older order's commit keeps failing; the newer one's gets through.
            front.releaseCommits(of: other.id)
            let delivered = await eventually {
                guard let stock = try? await shop.stock(pen) else { return false }
                return stock.reserved == 1 && stock.available == 7
            }
            #expect(delivered, "the second order's commit waited behind the first one's")
            let retried = await eventually { front.commitAttempts(of: stuck.id) >= 3 }
            #expect(retried, "the failing commit is retried, not abandoned")
            #expect(try await shop.stock(pen).reserved == 1)

            // Once it can get through, it does.
            front.releaseCommits(of: stuck.id)
            let settled = await eventually { (try? await shop.stock(pen))?.reserved == 0 }
            #expect(settled)
            let orders = try await shop.orders.listOrders(.init(), options: asAdmin()).orders
            #expect(orders.allSatisfy { $0.status == .confirmed })
        }
    }
}
