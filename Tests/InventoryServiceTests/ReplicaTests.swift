import FrameRPC
import Foundation
import InventoryService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

/// Two inventory service instances on one PostgreSQL database, each on its
/// own port, called over real TCP: what the database must decide because no
/// single process sees every call.
@Suite("Inventory replicas on one PostgreSQL database")
struct ReplicaTests {
    /// Runs two inventory instances on one fresh database; `body` gets a
    /// client for each.
    func withTwoReplicas<Result: Sendable>(
        settings: [String: String] = [:],
        _ body: (InventoryTestClient, InventoryTestClient) async throws -> Result
    ) async throws -> Result {
        let url = try await PostgresServer.shared().createDatabase()
        let (first, second) = (try TemporaryDirectory(), try TemporaryDirectory())
        defer { first.remove(); second.remove() }
        let shared = settings.merging([ServiceDatabase.urlSetting: url]) { own, _ in own }
        return try await withRunningService(InventoryServiceApp.factory, environment: inventoryEnvironment(first.path, settings: shared)) { firstPort in
            try await withRunningService(InventoryServiceApp.factory, environment: inventoryEnvironment(second.path, settings: shared)) { secondPort in
                let (a, b) = (InventoryTestClient(port: firstPort), InventoryTestClient(port: secondPort))
                defer { a.shutdown(); b.shutdown() }
                return try await body(a, b)
            }
        }
    }

    @Test("concurrent reservations for the last units through two replicas never oversell")
    func lastUnitsNeverOversold() async throws {
        try await withTwoReplicas { a, b in
            let lamp = newID()
            try await a.set(lamp, available: 7)
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for call in 0..<40 {
                    let replica = call.isMultiple(of: 2) ? a : b
                    group.addTask {
                        do {
                            try await replica.reserve(newID(), [(lamp, 1)])
                            return true
                        } catch let error as RPCError where error.code == .failedPrecondition {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 7)
            #expect(try await a.counts(lamp) == Counts(0, 7))
            #expect(try await b.counts(lamp) == Counts(0, 7))
        }
    }

    @Test("multi-item reservations in opposite product orders on two replicas are all or nothing and never deadlock")
    func oppositeOrdersAllOrNothing() async throws {
        try await withTwoReplicas { a, b in
            let (mug, pen) = (newID(), newID())
            try await a.set(mug, available: 10)
            try await a.set(pen, available: 10)
            let reserved = try await withThrowingTaskGroup(of: Bool.self) { group in
                for call in 0..<30 {
                    let forward: [(String, Int32)] = [(mug, 1), (pen, 1)]
                    let (replica, items) = call.isMultiple(of: 2) ? (a, forward) : (b, Array(forward.reversed()))
                    group.addTask {
                        do {
                            try await replica.reserve(newID(), items)
                            return true
                        } catch let error as RPCError where error.code == .failedPrecondition {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(reserved == 10)
            #expect(try await b.counts(mug) == Counts(0, 10))
            #expect(try await b.counts(pen) == Counts(0, 10))
        }
    }

    @Test("one order reserved through both replicas at once holds its units once")
    func sameOrderOnBothReplicasOnce() async throws {
        try await withTwoReplicas { a, b in
            let desk = newID()
            try await a.set(desk, available: 5)
            let order = newID()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await a.reserve(order, [(desk, 2)]) }
                group.addTask { try await b.reserve(order, [(desk, 2)]) }
                try await group.waitForAll()
            }
            #expect(try await a.counts(desk) == Counts(3, 2))
        }
    }

    @Test("a commit and a release of one order on two replicas at once end with every unit back once")
    func commitRaceRelease() async throws {
        try await withTwoReplicas { a, b in
            let chair = newID()
            try await a.set(chair, available: 4)
            let order = newID()
            try await a.reserve(order, [(chair, 3)])
            async let committed: Void = { _ = try? await a.commit(order) }()
            async let released: Void = { _ = try? await b.release(order) }()
            _ = await (committed, released)
            // Either order ends with every unit back: a commit after the
            // release is refused, a release after the commit returns the
            // committed units. Nothing is held twice or lost.
            #expect(try await b.counts(chair) == Counts(4, 0))
        }
    }

    @Test("expiry sweeps on both replicas release each expired reservation once")
    func sweepsOnBothReplicasReleaseOnce() async throws {
        let settings = ["SHOP_RESERVATION_TTL_SECONDS": "1", "SHOP_RESERVATION_SWEEP_SECONDS": "0.2"]
        try await withTwoReplicas(settings: settings) { a, b in
            let shelf = newID()
            try await a.set(shelf, available: 30)
            for index in 0..<20 {
                try await (index.isMultiple(of: 2) ? a : b).reserve(newID(), [(shelf, 1)])
            }
            #expect(try await a.counts(shelf) == Counts(10, 20))
            let deadline = ContinuousClock.now + .seconds(20)
            var counts = try await a.counts(shelf)
            while counts != Counts(30, 0), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                counts = try await a.counts(shelf)
            }
            // Released twice would make available above 30 (or fail a CHECK).
            #expect(counts == Counts(30, 0))
        }
    }
}
