import FrameRPC
import ServiceTesting
import ShopAPI
import Testing

@Suite("Inventory service process")
struct InventoryProcessTests {
    @Test("acknowledged stock and reservations survive kill -9 of the process")
    func survivesKill9() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (mug, pen, held, sold) = (newID(), newID(), newID(), newID())

        let first = try await ShopProcess.start(service: "inventory", dataDirectory: directory.path)
        let before = InventoryTestClient(port: first.port)
        try await before.set(mug, available: 10)
        try await before.set(pen, available: 5)
        let reservation = try await before.reserve(held, [(mug, 3), (pen, 1)])
        try await before.reserve(sold, [(mug, 2)])
        try await before.commit(sold)
        before.shutdown()
        await first.kill9()

        let second = try await ShopProcess.start(service: "inventory", dataDirectory: directory.path)
        // Should an expectation throw, releasing `second` kills it.
        let after = InventoryTestClient(port: second.port)
        defer { after.shutdown() }
        #expect(try await after.counts(mug) == Counts(5, 3))
        #expect(try await after.counts(pen) == Counts(4, 1))
        // The reservation is still there: a retry reserves nothing more.
        #expect(try await after.reserve(held, [(mug, 3), (pen, 1)]) == reservation)
        #expect(try await after.commit(sold).state == .committed)
        #expect(try await after.counts(mug) == Counts(5, 3))
        await second.terminate()
    }

    @Test("SIGTERM stops the process, expiry sweep included, with exit status 0")
    func gracefulStop() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let process = try await ShopProcess.start(
            service: "inventory",
            dataDirectory: directory.path,
            settings: ["SHOP_RESERVATION_SWEEP_SECONDS": "0.05"]
        )
        #expect(await process.terminate() == 0)
    }
}
