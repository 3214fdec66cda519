import FrameRPC
import Foundation
@testable import Gateway
import InventoryService
import NotificationService
import OrderService
import ProductService
import Logging
import RESTTranscoding
import ServiceSupport
import ServiceTesting
import ShopObservability
import UserService

/// The real shop behind the gateway: the five services running in this
/// process on ephemeral ports, each with its own SQLite files in a
/// temporary folder, the user service holding the first admin.
enum Shop {
    static let adminEmail = "admin@shop.example"
    static let adminPassword = "admin-password-42"
    static let password = "correct horse battery"

    /// The user service's settings: the gateway's signing key, the first
    /// admin, and cheap password hashing for tests.
    static var userSettings: [String: String] {
        [
            "SHOP_SIGNING_KEY": Tokens.signingKey,
            "SHOP_PASSWORD_ROUNDS": "1",
            "SHOP_TEST_ONLY_ALLOW_WEAK_PASSWORD_ROUNDS": "true",
            "SHOP_ADMIN_EMAIL": adminEmail,
            "SHOP_ADMIN_PASSWORD": adminPassword,
        ]
    }

    static func newEmail(_ prefix: String = "user") -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
    }
}

/// Runs the five services for the duration of `body`, which gets their
/// addresses by short name.
///
/// - Parameters:
///   - logger: each service's logger, by short name (quiet by default).
///   - metrics: each service's metrics registry, by short name.
func withShopServices<Result: Sendable>(
    logger: @escaping (String) -> Logger = { _ in testLogger("gateway-tests.shop") },
    metrics: @escaping (String) -> MetricsRegistry = { _ in .shared },
    _ body: ([String: ServiceEndpoint]) async throws -> Result
) async throws -> Result {
    let folder = try TemporaryDirectory()
    defer { folder.remove() }
    func environment(_ name: String, _ upstreams: [String: ServiceEndpoint] = [:], settings: [String: String] = [:]) -> ServiceEnvironment {
        ServiceEnvironment(
            dataDirectory: folder.path, upstreams: upstreams, settings: settings,
            tls: TestPKI.shared.server(as: name), logger: logger(name), metrics: metrics(name)
        )
    }
    func local(_ port: Int) -> ServiceEndpoint { ServiceEndpoint(host: "127.0.0.1", port: port) }

    return try await withRunningService(UserServiceApp.factory, environment: environment("user", settings: Shop.userSettings)) { user in
        try await withRunningService(ProductServiceApp.factory, environment: environment("product")) { product in
            try await withRunningService(InventoryServiceApp.factory, environment: environment("inventory")) { inventory in
                try await withRunningService(NotificationServiceApp.factory, environment: environment("notification")) { notification in
                    var upstreams = [
                        "user": local(user),
                        "product": local(product),
                        "inventory": local(inventory),
                        "notification": local(notification),
                    ]
                    return try await withRunningService(OrderServiceApp.factory, environment: environment("order", upstreams)) { order in
                        upstreams["order"] = local(order)
                        return try await body(upstreams)
                    }
                }
            }
        }
    }
}

/// Runs the whole shop and the gateway in front of it.
func withShop<Result: Sendable>(
    _ adjust: @escaping @Sendable (inout GatewayConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (HTTP) async throws -> Result
) async throws -> Result {
    try await withShopServices { upstreams in
        try await withGateway(GatewayHarness.configuration(upstreams: upstreams, adjust)) { http, _ in
            try await body(http)
        }
    }
}

/// What the journeys do over and over, through the REST API only.
extension HTTP {
    /// Registers a user; returns its id.
    func register(email: String = Shop.newEmail(), password: String = Shop.password, fullName: String = "Ada Lovelace") async throws -> (id: String, email: String) {
        let reply = try await post("/api/users/", json: #"{"email":"\#(email)","full_name":"\#(fullName)","password":"\#(password)"}"#)
        guard reply.status == 201, let id = reply.string("id") else { throw HarnessFailure("register: \(reply)") }
        return (id, email)
    }

    /// Logs in; returns the access token.
    func login(_ email: String, _ password: String = Shop.password) async throws -> String {
        let reply = try await post("/api/auth/login", json: #"{"email":"\#(email)","password":"\#(password)"}"#)
        guard reply.status == 200, let token = reply.string("access_token") else { throw HarnessFailure("login: \(reply)") }
        return token
    }

    /// A new user's id and token.
    func newUser() async throws -> (id: String, token: String) {
        let user = try await register()
        return (user.id, try await login(user.email))
    }

    /// The first admin's token.
    func adminToken() async throws -> String {
        try await login(Shop.adminEmail, Shop.adminPassword)
    }

    /// Creates a product as `admin`; returns its id.
    func createProduct(admin: String, name: String = "Widget", price: String = "19.99", category: String = "tools") async throws -> String {
        let reply = try await post("/api/products/", token: admin, json: #"{"name":"\#(name)","description":"A fine \#(name)","price":\#(price),"category":"\#(category)"}"#)
        guard reply.status == 201, let id = reply.string("id") else { throw HarnessFailure("create product: \(reply)") }
        return id
    }

    /// Sets a product's available stock as `admin`.
    func setStock(admin: String, productID: String, available: Int) async throws {
        let reply = try await put("/api/inventory/\(productID)", token: admin, json: #"{"available":\#(available)}"#)
        guard reply.status == 200 else { throw HarnessFailure("set stock: \(reply)") }
    }

    /// Places an order for `quantity` of `productID`.
    func order(token: String, productID: String, quantity: Int, headers: [String: String] = [:]) async throws -> Reply {
        try await post("/api/orders/", token: token, json: #"{"items":[{"product_id":"\#(productID)","quantity":\#(quantity)}]}"#, headers: headers)
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

