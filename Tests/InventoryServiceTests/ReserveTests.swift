import FrameRPC
import ServiceTesting
import ShopAPI
import Testing

@Suite("InventoryService.Reserve")
struct ReserveTests {
    @Test("a reservation moves units from available to reserved and answers the held items")
    func reserveHolds() async throws {
        try await withInventoryService { client, _ throws in
            let (mug, pen) = (newID(), newID())
            try await client.set(mug, available: 10)
            try await client.set(pen, available: 5)
            let order = newID()
            let reservation = try await client.reserve(order, [(pen, 2), (mug, 3)])
            #expect(reservation.orderID == order)
            #expect(reservation.state == .reserved)
            #expect(reservation.items == [item(pen, 2), item(mug, 3)])
            #expect(try await client.counts(mug) == Counts(7, 3))
            #expect(try await client.counts(pen) == Counts(3, 2))
        }
    }

    @Test("the last unit can be reserved; one more is FAILED_PRECONDITION")
    func lastUnit() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 2)
            try await client.reserve(newID(), [(mug, 2)])
            let error = await rpcError { try await client.reserve(newID(), [(mug, 1)]) }
            #expect(error?.code == .failedPrecondition)
            #expect(try await client.counts(mug) == Counts(0, 2))
        }
    }

    @Test("all or nothing: when one item lacks stock, FAILED_PRECONDITION names it and nothing is reserved")
    func allOrNothing() async throws {
        try await withInventoryService { client, _ throws in
            let (mug, pen, cup) = (newID(), newID(), newID())
            try await client.set(mug, available: 10)
            try await client.set(pen, available: 1)
            try await client.set(cup, available: 10)
            let order = newID()
            let error = await rpcError { try await client.reserve(order, [(mug, 3), (pen, 2), (cup, 1)]) }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains(pen) == true)
            #expect(try await client.counts(mug) == Counts(10, 0))
            #expect(try await client.counts(pen) == Counts(1, 0))
            #expect(try await client.counts(cup) == Counts(10, 0))
            // Nothing was recorded for the order either.
            let refusal = await rpcError { try await client.commit(order) }
            #expect(refusal?.code == .notFound)
        }
    }

    @Test("a product without a stock record is FAILED_PRECONDITION naming it, and nothing is reserved")
    func noStockRecord() async throws {
        try await withInventoryService { client, _ throws in
            let (mug, unknown) = (newID(), newID())
            try await client.set(mug, available: 10)
            let error = await rpcError { try await client.reserve(newID(), [(mug, 1), (unknown, 1)]) }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains(unknown) == true)
            #expect(try await client.counts(mug) == Counts(10, 0))
        }
    }

    @Test("reserving again with the same order id returns the reservation and reserves nothing more")
    func idempotent() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            let first = try await client.reserve(order, [(mug, 4)])
            let second = try await client.reserve(order, [(mug, 4)])
            #expect(second == first)
            #expect(try await client.counts(mug) == Counts(6, 4))
        }
    }

    @Test("a retry with different items still answers the order's first reservation")
    func retryKeepsFirst() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            let first = try await client.reserve(order, [(mug, 4)])
            #expect(try await client.reserve(order, [(mug, 9)]) == first)
            #expect(try await client.counts(mug) == Counts(6, 4))
        }
    }

    @Test("concurrent retries of one Reserve hold the units once")
    func concurrentRetries() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            let answers = try await withThrowingTaskGroup(of: Shop_Inventory_V1_Reservation.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await client.reserve(order, [(mug, 3)]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 20)
            #expect(Set(answers.map(\.state)) == [.reserved])
            #expect(try await client.counts(mug) == Counts(7, 3))
        }
    }

    @Test("items naming the same product twice are merged into one, at the first position")
    func duplicatesMerged() async throws {
        try await withInventoryService { client, _ throws in
            let (mug, pen) = (newID(), newID())
            try await client.set(mug, available: 10)
            try await client.set(pen, available: 10)
            let reservation = try await client.reserve(newID(), [(mug, 2), (pen, 1), (mug.uppercased(), 3)])
            #expect(reservation.items == [item(mug, 5), item(pen, 1)])
            #expect(try await client.counts(mug) == Counts(5, 5))
        }
    }

    @Test("merged duplicates are checked against stock as a whole")
    func duplicatesCheckedTogether() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 4)
            let error = await rpcError { try await client.reserve(newID(), [(mug, 3), (mug, 2)]) }
            #expect(error?.code == .failedPrecondition)
            #expect(try await client.counts(mug) == Counts(4, 0))
        }
    }

    @Test("a quantity below 1 is INVALID_ARGUMENT naming the item's quantity")
    func badQuantity() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 4)
            for quantity: Int32 in [0, -2] {
                let error = await rpcError { try await client.reserve(newID(), [(mug, 1), (mug, quantity)]) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.hasPrefix("items[1].quantity:") == true)
            }
            #expect(try await client.counts(mug) == Counts(4, 0))
        }
    }

    @Test("no items, a malformed order id or product id are INVALID_ARGUMENT naming the field")
    func badRequest() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 4)
            let noItems = await rpcError { try await client.reserve(newID(), []) }
            #expect(noItems?.code == .invalidArgument)
            #expect(noItems?.message.hasPrefix("items:") == true)
            let badOrder = await rpcError { try await client.reserve("order-1", [(mug, 1)]) }
            #expect(badOrder?.code == .invalidArgument)
            #expect(badOrder?.message.hasPrefix("order_id:") == true)
            let badProduct = await rpcError { try await client.reserve(newID(), [(mug, 1), ("sku", 1)]) }
            #expect(badProduct?.code == .invalidArgument)
            #expect(badProduct?.message.hasPrefix("items[1].product_id:") == true)
            #expect(try await client.counts(mug) == Counts(4, 0))
        }
    }

    @Test("more than 1000 items is INVALID_ARGUMENT naming items")
    func tooManyItems() async throws {
        try await withInventoryService { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 5_000)
            let error = await rpcError { try await client.reserve(newID(), Array(repeating: (mug, 1), count: 1_001)) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("items:") == true)
        }
    }
}
