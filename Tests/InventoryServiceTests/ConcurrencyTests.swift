import FrameRPC
import ShopAPI
import Testing

@Suite("Inventory under concurrent calls")
struct ConcurrencyTests {
    /// How a concurrent call ended.
    enum Outcome: Sendable, Equatable {
        case reserved
        case refused(RPCError.Code)
    }

    @Test("Inventory never oversells: concurrent reservations for the last units from many clients end with exactly the available units reserved")
    func neverOversells() async throws {
        try await withInventoryService { client, port throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            // Five clients, each its own TCP connection, ten calls each.
            let clients = (0..<5).map { _ in InventoryTestClient(port: port) }
            defer { clients.forEach { $0.shutdown() } }
            let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
                for call in 0..<50 {
                    let caller = clients[call % clients.count]
                    group.addTask {
                        do {
                            try await caller.reserve(newID(), [(mug, 1)])
                            return .reserved
                        } catch let error as RPCError {
                            return .refused(error.code)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let reserved = outcomes.filter { $0 == .reserved }.count
            let refused = outcomes.filter { $0 == .refused(.failedPrecondition) }.count
            #expect(reserved == 10)
            #expect(refused == 40)
            #expect(try await client.counts(mug) == Counts(0, 10))
        }
    }

    @Test("concurrent multi-item reservations are all or nothing for every product")
    func multiItemAllOrNothing() async throws {
        try await withInventoryService { client, port throws in
            let (mug, pen) = (newID(), newID())
            try await client.set(mug, available: 12)
            try await client.set(pen, available: 7)
            let clients = (0..<4).map { _ in InventoryTestClient(port: port) }
            defer { clients.forEach { $0.shutdown() } }
            // Each order takes 2 mugs and 1 pen: stock allows exactly 6 orders.
            let reserved = try await withThrowingTaskGroup(of: Bool.self) { group in
                for call in 0..<30 {
                    let caller = clients[call % clients.count]
                    group.addTask {
                        do {
                            try await caller.reserve(newID(), [(mug, 2), (pen, 1)])
                            return true
                        } catch let error as RPCError where error.code == .failedPrecondition {
                            return false
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(reserved == 6)
            #expect(try await client.counts(mug) == Counts(0, 12))
            #expect(try await client.counts(pen) == Counts(1, 6))
        }
    }

    @Test("concurrent commits and releases keep initial stock = available + reserved + committed")
    func concurrentCommitRelease() async throws {
        try await withInventoryService { client, port throws in
            let mug = newID()
            try await client.set(mug, available: 40)
            let orders = (0..<40).map { _ in newID() }
            for order in orders {
                try await client.reserve(order, [(mug, 1)])
            }
            let clients = (0..<4).map { _ in InventoryTestClient(port: port) }
            defer { clients.forEach { $0.shutdown() } }
            // Orders 0..<20 are committed (each twice, concurrently), 20..<30
            // released (twice), 30..<40 stay held.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, order) in orders.enumerated() where index < 30 {
                    for attempt in 0..<2 {
                        let caller = clients[(index + attempt) % clients.count]
                        group.addTask {
                            if index < 20 {
                                try await caller.commit(order)
                            } else {
                                try await caller.release(order)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let counts = try await client.counts(mug)
            #expect(counts == Counts(10, 10))
            #expect(counts.available + counts.reserved + 20 == 40)
        }
    }
}
