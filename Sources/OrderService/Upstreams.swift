import ServiceSupport
import ShopAPI

/// The services the order service calls, through their generated clients
/// only. Calls made while serving a request inherit what is left of its
/// deadline (FrameRPC's task-local ``ServerContext``).
struct Upstreams: Sendable {
    let users: UserServiceClient
    let products: ProductServiceClient
    let inventory: InventoryServiceClient
    let notifications: NotificationServiceClient

    init(environment: ServiceEnvironment) throws {
        users = UserServiceClient(try environment.client(for: "user"))
        products = ProductServiceClient(try environment.client(for: "product"))
        inventory = InventoryServiceClient(try environment.client(for: "inventory"))
        notifications = NotificationServiceClient(try environment.client(for: "notification"))
    }
}
