import FrameRPC
import Foundation
import InventoryService
import Logging
import NotificationService
import OrderService
import ProductService
import ServiceSupport
import ServiceTesting
import ShopAPI
import ShopObservability
import Synchronization
import UserService

/// The order service with the real user, product, inventory and
/// notification services beside it, each on an ephemeral port with its own
/// temporary data folder, and clients for all five.
struct Shop: Sendable {
    let orders: OrderServiceClient
    let users: UserServiceClient
    let products: ProductServiceClient
    let inventory: InventoryServiceClient
    let notifications: NotificationServiceClient
    /// The order service's port, for tests that want clients of their own.
    let orderPort: Int
    /// The service started with `stoppable`, if any: stop it and start it
    /// again on the same port and data folder.
    let stoppable: ServiceInstance?

    /// A registered user; returns its id.
    func newUser(active: Bool = true) async throws -> String {
        try await users.createUser(.with {
            $0.email = "user-\(Validation.newID())@example.com"
            $0.fullName = "Test User"
            $0.password = "correct horse battery"
            $0.isActive = active
        }).id
    }

    /// A catalog product with `stock` units available; returns its id.
    func newProduct(price: Int64, stock: Int32? = nil, name: String = "Widget") async throws -> String {
        let id = try await products.createProduct(.with {
            $0.name = name
            $0.description_p = "A product for tests"
            $0.price = price
            $0.category = "tests"
        }, options: try await asAdmin()).id
        if let stock {
            _ = try await inventory.setStock(.with {
                $0.productID = id
                $0.available = stock
            }, options: try await asAdmin())
        }
        return id
    }

    func stock(_ productID: String) async throws -> Shop_Inventory_V1_Stock {
        try await inventory.getStock(.with { $0.productID = productID })
    }

    /// Places an order for `user` (acting as that user).
    func order(
        _ items: [(product: String, quantity: Int32)],
        by user: String,
        key: String = ""
    ) async throws -> Shop_Order_V1_Order {
        try await orders.createOrder(orderRequest(items, key: key), options: try await asUser(user))
    }

    /// Every notification in the system, newest first.
    func allNotifications() async throws -> [Shop_Notification_V1_Notification] {
        try await notifications.listNotifications(.with { $0.limit = 1000 }, options: try await asAdmin()).notifications
    }
}

func orderRequest(
    _ items: [(product: String, quantity: Int32)],
    user: String = "",
    key: String = ""
) -> Shop_Order_V1_CreateOrderRequest {
    .with {
        $0.items = items.map { item in .with { $0.productID = item.product; $0.quantity = item.quantity } }
        $0.userID = user
        $0.idempotencyKey = key
    }
}

/// Which upstream a test wants to stop and start again.
enum StoppableUpstream: Sendable {
    case inventory
    case notification
}

/// Settings for the user service in tests: the test signing key (every
/// service gets it, to verify `asUser`/`asAdmin` tokens) and cheap
/// password hashing (the test-only switch).
let userServiceSettings = TestSigning.settings.merging([
    "SHOP_PASSWORD_ROUNDS": "1",
    "SHOP_TEST_ONLY_ALLOW_WEAK_PASSWORD_ROUNDS": "true",
]) { first, _ in first }

/// Runs the five services for the duration of `body`.
///
/// - Parameters:
///   - orderMetrics: where the order service records its metrics.
///   - inventorySettings: `SHOP_*` settings of the inventory service (such
///     as a short reservation TTL).
///   - inventoryFront: when given, the order service reaches the inventory
///     service through it (``InventoryFront``).
func withShop<Result: Sendable>(
    stoppable: StoppableUpstream? = nil,
    orderMetrics: MetricsRegistry = .shared,
    inventorySettings: [String: String] = [:],
    inventoryFront: InventoryFront? = nil,
    _ body: (Shop) async throws -> Result
) async throws -> Result {
    let folders = try (0..<5).map { _ in try TemporaryDirectory() }
    defer { folders.forEach { $0.remove() } }
    func environment(_ index: Int, _ name: String, upstreams: [String: ServiceEndpoint] = [:], settings: [String: String] = TestSigning.settings) -> ServiceEnvironment {
        ServiceEnvironment(
            dataDirectory: folders[index].path, upstreams: upstreams, settings: settings,
            tls: TestPKI.shared.server(as: name), logger: testLogger(name),
            metrics: name == "order" ? orderMetrics : .shared
        )
    }
    return try await withRunningService(UserServiceApp.factory, environment: environment(0, "user", settings: userServiceSettings)) { userPort in
        try await withRunningService(ProductServiceApp.factory, environment: environment(1, "product")) { productPort in
            try await withService(InventoryServiceApp.factory, environment(2, "inventory", settings: TestSigning.settings.merging(inventorySettings) { _, given in given }), stoppable: stoppable == .inventory) { inventoryPort, inventoryInstance in
                try await withService(NotificationServiceApp.factory, environment(3, "notification"), stoppable: stoppable == .notification) { notificationPort, notificationInstance in
                  try await withInventoryFront(inventoryFront, forwardingTo: inventoryPort) { orderInventoryPort in
                    let upstreams = [
                        "user": ServiceEndpoint(port: userPort),
                        "product": ServiceEndpoint(port: productPort),
                        "inventory": ServiceEndpoint(port: orderInventoryPort),
                        "notification": ServiceEndpoint(port: notificationPort),
                    ]
                    return try await withRunningService(OrderServiceApp.factory, environment: environment(4, "order", upstreams: upstreams)) { orderPort in
                        // The test stands where the gateway stands.
                        let clients = zip([orderPort, userPort, productPort, inventoryPort, notificationPort], ["order", "user", "product", "inventory", "notification"]).map {
                            RPCClient.testing(port: $0, calling: $1)
                        }
                        defer { clients.forEach { $0.shutdown() } }
                        return try await body(Shop(
                            orders: OrderServiceClient(clients[0]),
                            users: UserServiceClient(clients[1]),
                            products: ProductServiceClient(clients[2]),
                            inventory: InventoryServiceClient(clients[3]),
                            notifications: NotificationServiceClient(clients[4]),
                            orderPort: orderPort,
                            stoppable: inventoryInstance ?? notificationInstance
                        ))
                    }
                  }
                }
            }
        }
    }
}

/// Runs `body` with the port the order service should call the inventory
/// service on: the front's, when there is one, else the inventory's own.
private func withInventoryFront<Result: Sendable>(
    _ front: InventoryFront?,
    forwardingTo inventoryPort: Int,
    _ body: (Int) async throws -> Result
) async throws -> Result {
    guard let front else { return try await body(inventoryPort) }
    // The front answers as the inventory service and calls it as the order
    // service, over mutual TLS like every hop.
    let upstream = RPCClient.testing(port: inventoryPort, calling: "inventory", as: "order")
    defer { upstream.shutdown() }
    let handler = front.handler(forwardingTo: InventoryServiceClient(upstream))
    let environment = ServiceEnvironment(
        dataDirectory: NSTemporaryDirectory(), tls: TestPKI.shared.server(as: "inventory"), logger: testLogger("inventory-front")
    )
    return try await withRunningService({ _ in RunnableService(handler: handler) }, environment: environment) { port in
        try await body(port)
    }
}

/// Runs a service with `withRunningService`, or, when it is to be stopped
/// during the test, as a ``ServiceInstance``.
private func withService<Result: Sendable>(
    _ factory: @escaping ServiceFactory,
    _ environment: ServiceEnvironment,
    stoppable: Bool,
    _ body: (Int, ServiceInstance?) async throws -> Result
) async throws -> Result {
    guard stoppable else {
        return try await withRunningService(factory, environment: environment) { port in try await body(port, nil) }
    }
    let instance = try await ServiceInstance.start(factory, environment: environment)
    do {
        let result = try await body(instance.port, instance)
        await instance.stop()
        return result
    } catch {
        await instance.stop()
        throw error
    }
}

/// A service in this process that a test can stop (its server task is
/// cancelled: every connection closes at once, as when the process dies)
/// and start again on the same port with the same data folder.
final class ServiceInstance: Sendable {
    let port: Int
    private let factory: ServiceFactory
    private let environment: ServiceEnvironment
    private let running = Mutex<Task<Void, Never>?>(nil)

    private init(port: Int, factory: @escaping ServiceFactory, environment: ServiceEnvironment, task: Task<Void, Never>) {
        self.port = port
        self.factory = factory
        self.environment = environment
        running.withLock { $0 = task }
    }

    static func start(_ factory: @escaping ServiceFactory, environment: ServiceEnvironment) async throws -> ServiceInstance {
        let (task, port) = try await launch(factory, environment: environment, port: 0)
        return ServiceInstance(port: port, factory: factory, environment: environment, task: task)
    }

    /// Stops the service and waits until it has stopped.
    func stop() async {
        let task = running.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
    }

    /// Starts the service again on its port.
    func restart() async throws {
        await stop()
        let (task, _) = try await Self.launch(factory, environment: environment, port: port)
        running.withLock { $0 = task }
    }

    private static func launch(_ factory: ServiceFactory, environment: ServiceEnvironment, port: Int) async throws -> (Task<Void, Never>, Int) {
        let service = try await factory(try await TestStorage.prepared(environment))
        let server = RPCServer.shopService(service.handler, at: ServiceEndpoint(port: port), tls: environment.tls, logger: environment.logger)
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await StopWatch().reportingHang(of: server, in: environment.logger.label) }
                for background in service.background {
                    group.addTask { try? await StopWatch().reportingHang(of: background, in: environment.logger.label) }
                }
            }
        }
        do {
            return (task, try await server.port)
        } catch {
            task.cancel()
            throw error
        }
    }
}

