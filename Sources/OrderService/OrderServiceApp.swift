import FrameRPC
import ServiceSupport
import ShopAPI

/// How `shop serve order` and the tests build the order service.
///
/// Needs the addresses of the user, product, inventory and notification
/// services (`--upstream NAME=HOST:PORT` or `SHOP_<NAME>_ADDR`). Keeps its
/// data in its database (``ServiceDatabase``: `<data>/order.sqlite`, or the
/// `order` schema on PostgreSQL), feeds WatchOrder streams with other
/// replicas' changes (``OrderUpdateFeed``) and runs two outbox relays in the
/// background: one delivering events to NotificationService.Notify, one
/// committing and releasing reservations with InventoryService.
public enum OrderServiceApp {
    public static let factory: ServiceFactory = { environment in
        let callers = try await environment.callerResolver()
        var logger = environment.logger
        logger[metadataKey: "service"] = "order"
        let upstreams = try Upstreams(environment: environment)
        let database = try await ServiceDatabase.open("order", migrations: OrderStore.migrations, environment: environment)
        let store = OrderStore(database)
        let inventoryDoorbell = Doorbell()
        let notificationDoorbell = Doorbell()
        let updates = OrderUpdates()
        let inventoryDelivery = InventoryDelivery(
            inventory: upstreams.inventory,
            store: store,
            updates: updates,
            notificationDoorbell: notificationDoorbell,
            inventoryDoorbell: inventoryDoorbell,
            logger: logger
        )

        let handler = OrderHandler(
            store: store,
            placement: OrderPlacement(
                store: store,
                upstreams: upstreams,
                inventoryDelivery: inventoryDelivery,
                inventoryDoorbell: inventoryDoorbell,
                notificationDoorbell: notificationDoorbell,
                callers: callers,
                logger: logger
            ),
            upstreams: upstreams,
            inventoryDelivery: inventoryDelivery,
            callers: callers,
            updates: updates,
            inventoryDoorbell: inventoryDoorbell,
            notificationDoorbell: notificationDoorbell,
            logger: logger
        )

        let notifications = upstreams.notifications
        let users = upstreams.users
        let notificationRelay = OutboxRelay(
            destination: .notification, store: store, doorbell: notificationDoorbell, logger: logger,
            metrics: environment.metrics
        ) { event in
            // The address at delivery time (the notification service emails
            // it; it may not read the user service itself). A user that no
            // longer exists still gets the inbox entry, without email.
            let recipient: Shop_User_V1_User?
            do {
                recipient = try await users.getUser(.with { $0.id = event.userID }, options: CallOptions(timeout: .seconds(5)))
            } catch let error as RPCError where error.code == .notFound {
                recipient = nil
            }
            _ = try await notifications.notify(.with {
                $0.eventID = event.id
                $0.userID = event.userID
                $0.kind = event.kind
                $0.data = event.data
                $0.recipientEmail = recipient?.email ?? ""
                $0.recipientName = recipient?.fullName ?? ""
            }, options: CallOptions(timeout: .seconds(5)))
        }
        let inventoryRelay = OutboxRelay(
            destination: .inventory, store: store, doorbell: inventoryDoorbell, logger: logger,
            metrics: environment.metrics
        ) { event in
            try await inventoryDelivery.deliver(event, timeout: .seconds(5))
        }
        // On every replica: the relays share the outbox by claims, the feed
        // brings other replicas' changes to this one's watchers.
        let feed = OrderUpdateFeed(database: database, store: store, updates: updates, logger: logger)
        return RunnableService(handler: handler, background: database.services + [notificationRelay, inventoryRelay, feed])
    }
}
