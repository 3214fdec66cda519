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

/// The inventory service's two callers, as in the real system: the order
/// service reserves, commits and releases; the gateway reads and sets stock.
struct InventoryTestClient: Sendable {
    /// Calls as the order service.
    let order: InventoryServiceClient
    /// Calls as the gateway.
    let gateway: InventoryServiceClient

    /// Both callers on their own connections to `port`; shut down with ``shutdown()``.
    init(port: Int) {
        order = InventoryServiceClient(RPCClient.testing(port: port, calling: "inventory", as: "order"))
        gateway = InventoryServiceClient(RPCClient.testing(port: port, calling: "inventory"))
    }

    func shutdown() {
        order.rpc.shutdown()
        gateway.rpc.shutdown()
    }

    func getStock(_ request: Shop_Inventory_V1_GetStockRequest, options: CallOptions = .defaults) async throws -> Shop_Inventory_V1_Stock {
        try await gateway.getStock(request, options: options)
    }

    func setStock(_ request: Shop_Inventory_V1_SetStockRequest, options: CallOptions = .defaults) async throws -> Shop_Inventory_V1_Stock {
        try await gateway.setStock(request, options: options)
    }

    func reserve(_ request: Shop_Inventory_V1_ReserveRequest, options: CallOptions = .defaults) async throws -> Shop_Inventory_V1_Reservation {
        try await order.reserve(request, options: options)
    }

    func commit(_ request: Shop_Inventory_V1_CommitRequest, options: CallOptions = .defaults) async throws -> Shop_Inventory_V1_Reservation {
        try await order.commit(request, options: options)
    }

    func release(_ request: Shop_Inventory_V1_ReleaseRequest, options: CallOptions = .defaults) async throws -> Shop_Inventory_V1_Reservation {
        try await order.release(request, options: options)
    }
}

/// The inventory service's settings and TLS identity in `directory`.
func inventoryEnvironment(_ directory: String, settings: [String: String] = [:]) -> ServiceEnvironment {
    ServiceEnvironment(dataDirectory: directory, settings: settings, tls: TestPKI.shared.server(as: "inventory"), logger: testLogger("inventory-tests"))
}

/// Runs the inventory service in this process on a fresh data folder, with
/// its expiry sweep, over mutual TLS, and gives `body` its clients and its port.
func withInventoryService<Result: Sendable>(
    settings: [String: String] = [:],
    _ body: (InventoryTestClient, Int) async throws -> Result
) async throws -> Result {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let environment = inventoryEnvironment(directory.path, settings: settings)
    return try await withRunningService(InventoryServiceApp.factory, environment: environment) { port in
        let client = InventoryTestClient(port: port)
        defer { client.shutdown() }
        return try await body(client, port)
    }
}

/// The `CommitRefusal` detail of a refused commit, if it carries one.
func commitRefusal(in error: RPCError?) -> Shop_Inventory_V1_CommitRefusal? {
    guard let detail = error?.details.first(where: { $0.isA(Shop_Inventory_V1_CommitRefusal.self) }) else { return nil }
    return try? Shop_Inventory_V1_CommitRefusal(unpackingAny: detail)
}

/// A new random product or order id.
func newID() -> String { Validation.newID() }

extension InventoryTestClient {
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
