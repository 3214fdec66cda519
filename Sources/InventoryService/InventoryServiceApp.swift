import ServiceSupport

/// How `shop serve inventory` and the tests build the inventory service:
/// stock and reservations in its database (``ServiceDatabase``:
/// `<data>/inventory.sqlite`, or the `inventory` schema on PostgreSQL), served by
/// ``InventoryHandler``, with ``ReservationExpiry`` as background work.
///
/// Settings: `SHOP_RESERVATION_TTL_SECONDS` (default 900) and
/// `SHOP_RESERVATION_SWEEP_SECONDS` (see ``ReservationPolicy``).
public enum InventoryServiceApp {
    public static let factory: ServiceFactory = { environment in
        let callers = try await environment.callerResolver()
        let policy = try ReservationPolicy(environment: environment)
        let database = try await ServiceDatabase.open("inventory", migrations: InventoryStore.migrations, environment: environment)
        let store = InventoryStore(database)
        return RunnableService(
            handler: InventoryHandler(store: store, policy: policy, callers: callers),
            // The sweep runs on every replica; the database splits the work.
            background: database.services + [ReservationExpiry(store: store, policy: policy, logger: environment.logger)]
        )
    }
}
