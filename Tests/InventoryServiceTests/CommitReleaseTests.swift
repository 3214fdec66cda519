import FrameRPC
import ServiceTesting
import ShopAPI
import Testing

@Suite("InventoryService.Commit")
struct CommitTests {
    @Test("commit takes the reserved units out for good")
    func commitSells() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            try await client.reserve(order, [(mug, 3)])
            let committed = try await client.commit(order)
            #expect(committed.orderID == order)
            #expect(committed.state == .committed)
            #expect(committed.items == [item(mug, 3)])
            #expect(try await client.counts(mug) == Counts(7, 0))
        }
    }

    @Test("committing twice answers the committed reservation and changes nothing")
    func commitTwice() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            try await client.reserve(order, [(mug, 3)])
            let first = try await client.commit(order)
            let second = try await client.commit(order)
            #expect(second == first)
            #expect(try await client.counts(mug) == Counts(7, 0))
            // Reserving again for the order still reserves nothing.
            #expect(try await client.reserve(order, [(mug, 3)]).state == .committed)
            #expect(try await client.counts(mug) == Counts(7, 0))
        }
    }

    @Test("committing an order without a reservation is NOT_FOUND")
    func commitUnknown() async throws {
        try await withInventoryService { client, _ throws in
            let refusal = await rpcError { try await client.commit(newID()) }
            #expect(refusal?.code == .notFound)
        }
    }

    @Test("committing a reservation released on request is FAILED_PRECONDITION with a RELEASED refusal and changes nothing, though the units are free")
    func commitReleased() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            try await client.reserve(order, [(mug, 3)])
            try await client.release(order)
            let error = await rpcError { try await client.commit(order) }
            #expect(error?.code == .failedPrecondition)
            #expect(commitRefusal(in: error)?.reason == .released)
            #expect(commitRefusal(in: error)?.orderID == order)
            #expect(try await client.counts(mug) == Counts(10, 0))
        }
    }

    @Test("a malformed order id is INVALID_ARGUMENT naming order_id")
    func commitMalformed() async throws {
        try await withInventoryService { client, _ throws in
            let error = await rpcError { try await client.commit("") }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("order_id:") == true)
        }
    }
}

@Suite("InventoryService.Release")
struct ReleaseTests {
    @Test("release returns reserved units to available")
    func releaseReserved() async throws {
        try await withInventoryService { client, _ throws in
            let (mug, pen) = (newID(), newID())
            try await client.set(mug, available: 10)
            try await client.set(pen, available: 1)
            let order = newID()
            try await client.reserve(order, [(mug, 3), (pen, 1)])
            let released = try await client.release(order)
            #expect(released.state == .released)
            #expect(released.items == [item(mug, 3), item(pen, 1)])
            #expect(try await client.counts(mug) == Counts(10, 0))
            #expect(try await client.counts(pen) == Counts(1, 0))
        }
    }

    @Test("releasing twice answers the released reservation and returns nothing more")
    func releaseTwice() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            try await client.reserve(order, [(mug, 3)])
            let first = try await client.release(order)
            let second = try await client.release(order)
            #expect(second == first)
            #expect(try await client.counts(mug) == Counts(10, 0))
        }
    }

    @Test("releasing a committed reservation (an order cancelled) returns its units to available")
    func releaseCommitted() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            try await client.reserve(order, [(mug, 4)])
            try await client.commit(order)
            #expect(try await client.counts(mug) == Counts(6, 0))
            #expect(try await client.release(order).state == .released)
            #expect(try await client.counts(mug) == Counts(10, 0))
            #expect(try await client.release(order).state == .released)
            #expect(try await client.counts(mug) == Counts(10, 0))
        }
    }

    @Test("reserving again for a released order answers the released reservation and holds nothing")
    func reserveAfterRelease() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            try await client.reserve(order, [(mug, 4)])
            try await client.release(order)
            #expect(try await client.reserve(order, [(mug, 4)]).state == .released)
            #expect(try await client.counts(mug) == Counts(10, 0))
        }
    }

    @Test("releasing an order without a reservation is NOT_FOUND; a malformed id names order_id")
    func releaseUnknown() async throws {
        try await withInventoryService { client, _ throws in
            let refusal = await rpcError { try await client.release(newID()) }
            #expect(refusal?.code == .notFound)
            let malformed = await rpcError { try await client.release("x") }
            #expect(malformed?.code == .invalidArgument)
            #expect(malformed?.message.hasPrefix("order_id:") == true)
        }
    }

    @Test("after a mix of reserve, commit and release, initial stock = available + reserved + committed")
    func invariantAfterMix() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 50)
            var committedUnits: Int32 = 0
            var reservedUnits: Int32 = 0
            for round in 0..<12 {
                let order = newID()
                let quantity = Int32(round % 4 + 1)
                try await client.reserve(order, [(mug, quantity)])
                switch round % 4 {
                case 0:
                    try await client.commit(order)
                    committedUnits += quantity
                case 1:
                    try await client.release(order)
                case 2:
                    try await client.commit(order)
                    try await client.release(order)
                default:
                    reservedUnits += quantity
                }
            }
            let counts = try await client.counts(mug)
            #expect(counts.reserved == reservedUnits)
            #expect(counts.available + counts.reserved + committedUnits == 50)
        }
    }
}
