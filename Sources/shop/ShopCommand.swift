import ArgumentParser
import InventoryService
import NotificationService
import OrderService
import ProductService
import ServiceSupport
import Supervisor
import UserService

/// `shop`: the one executable of the system. Each subcommand reads its
/// settings and hands over to a library (`ServiceRunner`, `buildGateway`,
/// `Supervisor`); no business logic lives here.
@main
struct ShopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shop",
        abstract: "The shop: a gateway and five services speaking FrameRPC.",
        subcommands: [UpCommand.self, ServeCommand.self, GatewayCommand.self, HealthCommand.self, CertsCommand.self, SeedCommand.self]
    )
}

/// The services `shop serve` knows: their factories, and their default
/// ports from ``SystemPlan/services`` (the one list of them).
enum ServiceCatalog {
    private static let factories: [String: ServiceFactory] = [
        "user": UserServiceApp.factory,
        "product": ProductServiceApp.factory,
        "inventory": InventoryServiceApp.factory,
        "order": OrderServiceApp.factory,
        "notification": NotificationServiceApp.factory,
    ]

    static var names: [String] { SystemPlan.services.map(\.name).sorted() }

    static func entry(_ name: String) -> (name: String, port: Int, factory: ServiceFactory)? {
        guard let service = SystemPlan.services.first(where: { $0.name == name }), let factory = factories[name] else { return nil }
        return (name, service.port, factory)
    }
}
