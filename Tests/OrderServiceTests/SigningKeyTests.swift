import InventoryService
import NotificationService
import OrderService
import ProductService
import ServiceSupport
import ServiceTesting
import Testing
import UserService

/// Every service verifies the access tokens the gateway forwards, so every
/// one needs the signing key and refuses to start without it.
@Suite("Every service's signing key")
struct SigningKeyTests {
    static let factories: [(name: String, factory: ServiceFactory)] = [
        ("user", UserServiceApp.factory), ("product", ProductServiceApp.factory), ("inventory", InventoryServiceApp.factory),
        ("order", OrderServiceApp.factory), ("notification", NotificationServiceApp.factory),
    ]

    private func startError(_ factory: ServiceFactory, settings: [String: String]) async throws -> String? {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let upstreams = Dictionary(uniqueKeysWithValues: ["user", "product", "inventory", "notification"].map { ($0, ServiceEndpoint(port: 1)) })
        let environment = ServiceEnvironment(dataDirectory: folder.path, upstreams: upstreams, settings: settings, logger: testLogger("signing-key-tests"))
        do {
            _ = try await factory(environment)
            return nil
        } catch let error as ConfigurationError {
            return error.description
        }
    }

    @Test("without SHOP_SIGNING_KEY no service starts, and each says what is missing", arguments: 0..<5)
    func missingKeyStopsEveryService(_ index: Int) async throws {
        let (name, factory) = Self.factories[index]
        let message = try await startError(factory, settings: [:])
        #expect(message?.contains("SHOP_SIGNING_KEY is required") == true, "\(name): \(message ?? "started")")
    }

    @Test("a short key is refused by every service with its length, never its value", arguments: 0..<5)
    func shortKeyStopsEveryService(_ index: Int) async throws {
        let (name, factory) = Self.factories[index]
        let message = try await startError(factory, settings: ["SHOP_SIGNING_KEY": "tiny-secret-value"])
        #expect(message?.contains("too short: 17 bytes") == true, "\(name): \(message ?? "started")")
        #expect(message?.contains("tiny-secret-value") == false)
    }
}
