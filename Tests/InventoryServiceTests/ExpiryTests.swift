import FrameRPC
import InventoryService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("Reservation expiry")
struct ExpiryTests {
    /// A TTL short enough for a test yet long enough for the few calls
    /// made before it runs out, with a sweep well within it.
    static let shortTTL = [
        "SHOP_RESERVATION_TTL_SECONDS": "2",
        "SHOP_RESERVATION_SWEEP_SECONDS": "0.05",
    ]

    @Test("a reservation not committed within the TTL is released, and reserving again holds nothing")
    func uncommittedExpires() async throws {
        try await withInventoryService(settings: Self.shortTTL) { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let order = newID()
            try await client.reserve(order, [(mug, 4)])
            #expect(try await client.counts(mug) == Counts(6, 4))
            let settled = try await eventually { try await client.counts(mug) == Counts(10, 0) }
            #expect(settled)
            #expect(try await client.reserve(order, [(mug, 4)]).state == .released)
            #expect(try await client.counts(mug) == Counts(10, 0))
        }
    }

    @Test("a committed reservation never expires; one left uncommitted beside it does")
    func committedStays() async throws {
        try await withInventoryService(settings: Self.shortTTL) { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            let (kept, abandoned) = (newID(), newID())
            try await client.reserve(kept, [(mug, 3)])
            try await client.commit(kept)
            try await client.reserve(abandoned, [(mug, 2)])
            let settled = try await eventually { try await client.counts(mug) == Counts(7, 0) }
            #expect(settled)
            #expect(try await client.commit(kept).state == .committed)
            #expect(try await client.reserve(abandoned, [(mug, 2)]).state == .released)
        }
    }

    @Test("with the default TTL a reservation stays held")
    func defaultTTLHolds() async throws {
        try await withInventoryService(settings: ["SHOP_RESERVATION_SWEEP_SECONDS": "0.05"]) { client, _ throws in
            let mug = newID()
            try await client.set(mug, available: 10)
            try await client.reserve(newID(), [(mug, 4)])
            // Several sweeps run in this time; none may release the reservation.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await client.counts(mug) == Counts(6, 4))
        }
    }

    @Test("a TTL or sweep setting that is not a positive number is a configuration error")
    func badSettings() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for settings in [
            ["SHOP_RESERVATION_TTL_SECONDS": "soon"],
            ["SHOP_RESERVATION_TTL_SECONDS": "0"],
            ["SHOP_RESERVATION_SWEEP_SECONDS": "-1"],
        ] {
            let environment = inventoryEnvironment(directory.path, settings: settings)
            await #expect(throws: ConfigurationError.self) {
                _ = try await InventoryServiceApp.factory(environment)
            }
        }
    }
}
