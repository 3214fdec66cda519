import FrameRPC
import ServiceTesting
import ShopAPI
import Testing

/// A commit that arrives after its reservation expired (the order service
/// or the inventory service was down for longer than the TTL): the units are
/// taken again if they are all still there, otherwise the commit is refused
/// with a typed reason, and the counts never stop adding up.
@Suite("InventoryService.Commit after expiry")
struct LateCommitTests {
    static let shortTTL = [
        "SHOP_RESERVATION_TTL_SECONDS": "1",
        "SHOP_RESERVATION_SWEEP_SECONDS": "0.05",
    ]

    /// Waits until the expiry sweep has given `productID` back to `counts`.
    private func expired(_ client: InventoryTestClient, _ productID: String, to counts: Counts) async throws {
        let settled = try await eventually { try await client.counts(productID) == counts }
        try #require(settled, "the reservation did not expire")
    }

    @Test("a late commit takes the expired reservation's units again when they are available")
    func lateCommitRetakes() async throws {
        try await withInventoryService(settings: Self.shortTTL) { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            try await client.reserve(order, [(mug, 4)])
            try await expired(client, mug, to: Counts(10, 0))

            let committed = try await client.commit(order)
            #expect(committed.state == .committed)
            #expect(committed.items == [item(mug, 4)])
            #expect(try await client.counts(mug) == Counts(6, 0))
            // Committing again holds nothing more.
            #expect(try await client.commit(order).state == .committed)
            #expect(try await client.counts(mug) == Counts(6, 0))
            // The units really are committed: a cancellation gives them back.
            try await client.release(order)
            #expect(try await client.counts(mug) == Counts(10, 0))
        }
    }

    @Test("a late commit whose units were sold meanwhile is refused with STOCK_GONE and changes nothing")
    func lateCommitRefusedWhenSold() async throws {
        try await withInventoryService(settings: Self.shortTTL) { client, _ throws in
            let lamp = newID()
            try await client.set(lamp, available: 1)
            let (late, other) = (newID(), newID())
            try await client.reserve(late, [(lamp, 1)])
            try await expired(client, lamp, to: Counts(1, 0))
            try await client.reserve(other, [(lamp, 1)])
            try await client.commit(other)

            let error = await rpcError { try await client.commit(late) }
            #expect(error?.code == .failedPrecondition)
            let refusal = commitRefusal(in: error)
            #expect(refusal?.reason == .stockGone)
            #expect(refusal?.orderID == late)
            #expect(refusal?.productID == lamp)
            #expect(refusal?.available == 0)
            #expect(refusal?.requested == 1)
            #expect(try await client.counts(lamp) == Counts(0, 0))
            #expect(try await client.commit(other).state == .committed)
            // The other order's unit is still the one sold: releasing it brings back exactly one.
            try await client.release(other)
            #expect(try await client.counts(lamp) == Counts(1, 0))
        }
    }

    @Test("a late commit of several items takes all of them or none")
    func lateCommitAllOrNothing() async throws {
        try await withInventoryService(settings: Self.shortTTL) { client, _ throws in
            let (mug, pen) = (newID(), newID())
            try await client.set(mug, available: 5)
            try await client.set(pen, available: 1)
            let late = newID()
            try await client.reserve(late, [(mug, 2), (pen, 1)])
            try await expired(client, pen, to: Counts(1, 0))
            try await expired(client, mug, to: Counts(5, 0))
            try await client.reserve(newID(), [(pen, 1)])

            let error = await rpcError { try await client.commit(late) }
            #expect(commitRefusal(in: error)?.reason == .stockGone)
            #expect(commitRefusal(in: error)?.productID == pen)
            #expect(try await client.counts(mug) == Counts(5, 0), "the mugs taken before the pen failed are given back")
            #expect(try await client.counts(pen) == Counts(0, 1))
        }
    }
}

@Suite("InventoryService.Release after expiry")
struct ReleaseAfterExpiryTests {
    @Test("a release on request after the expiry makes the reservation final: a commit arriving later is refused though units are free")
    func releaseAfterExpiryIsFinal() async throws {
        try await withInventoryService(settings: LateCommitTests.shortTTL) { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            try await client.reserve(order, [(mug, 2)])
            let settled = try await eventually { try await client.counts(mug) == Counts(10, 0) }
            try #require(settled)
            #expect(try await client.release(order).state == .released)
            let error = await rpcError { try await client.commit(order) }
            #expect(commitRefusal(in: error)?.reason == .released)
            #expect(try await client.counts(mug) == Counts(10, 0))
        }
    }
}
