import FrameRPC
import Foundation
import InventoryService
import ServiceSupport
import ServiceTesting
import ShopAPI

/// Calls as an admin, as the gateway sends them for an admin's token.
let asAdmin = ServiceTesting.asAdmin()
/// Calls as a plain user.
let asUser = CallOptions(metadata: ["x-user-id": Validation.newID(), "x-user-role": "user"])

/// Runs the inventory service in this process on a fresh data folder, with
/// its expiry sweep, and gives `body` a client to it over TCP and its port.
func withInventoryService<Result: Sendable>(
    settings: [String: String] = [:],
    _ body: (InventoryServiceClient, Int) async throws -> Result
) async throws -> Result {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let environment = ServiceEnvironment(dataDirectory: directory.path, settings: settings, logger: testLogger("inventory-tests"))
    return try await withRunningService(InventoryServiceApp.factory, environment: environment) { port in
        let rpc = RPCClient(host: "127.0.0.1", port: port)
        defer { rpc.shutdown() }
        return try await body(InventoryServiceClient(rpc), port)
    }
}

/// The `CommitRefusal` detail of a refused commit, if it carries one.
func commitRefusal(in error: RPCError?) -> Shop_Inventory_V1_CommitRefusal? {
    guard let detail = error?.details.first(where: { $0.isA(Shop_Inventory_V1_CommitRefusal.self) }) else { return nil }
    return try? Shop_Inventory_V1_CommitRefusal(unpackingAny: detail)
}

/// A new random product or order id.
func newID() -> String { Validation.newID() }

extension InventoryServiceClient {
    @discardableResult
    func set(_ productID: String, available: Int32) async throws -> Shop_Inventory_V1_Stock {
        try await setStock(.with {
            $0.productID = productID
            $0.available = available
        }, options: asAdmin)
    }

    func stock(_ productID: String) async throws -> Shop_Inventory_V1_Stock {
        try await getStock(.with { $0.productID = productID })
    }

    /// A product's available and reserved units.
    func counts(_ productID: String) async throws -> Counts {
        let stock = try await stock(productID)
        return Counts(stock.available, stock.reserved)
    }

    @discardableResult
    func reserve(_ orderID: String, _ items: [(String, Int32)]) async throws -> Shop_Inventory_V1_Reservation {
        try await reserve(.with {
            $0.orderID = orderID
            $0.items = items.map { productID, quantity in
                .with {
                    $0.productID = productID
                    $0.quantity = quantity
                }
            }
        })
    }

    @discardableResult
    func commit(_ orderID: String) async throws -> Shop_Inventory_V1_Reservation {
        try await commit(.with { $0.orderID = orderID })
    }

    @discardableResult
    func release(_ orderID: String) async throws -> Shop_Inventory_V1_Reservation {
        try await release(.with { $0.orderID = orderID })
    }
}

/// A reservation item, for comparing answers.
func item(_ productID: String, _ quantity: Int32) -> Shop_Inventory_V1_ReservationItem {
    .with {
        $0.productID = productID
        $0.quantity = quantity
    }
}

/// A product's `available` and `reserved`, compared in one expectation.
struct Counts: Equatable, CustomStringConvertible {
    let available: Int32
    let reserved: Int32

    init(_ available: Int32, _ reserved: Int32) {
        self.available = available
        self.reserved = reserved
    }

    var description: String { "available \(available), reserved \(reserved)" }
}
