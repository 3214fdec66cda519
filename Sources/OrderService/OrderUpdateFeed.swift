import Logging
import ServiceLifecycle
import ShopStorage

/// Feeds this replica's WatchOrder streams with the status changes made on
/// every replica: a background `Service` that listens on the database's
/// ``OrderStore/updatesChannel`` (PostgreSQL `LISTEN`; every status change
/// sends its order id with `NOTIFY` when it commits) and, for an order
/// someone here watches, reads it and publishes it to ``OrderUpdates``.
///
/// The delay is the notification's (delivered at commit, typically a few
/// milliseconds) plus one read. When the listening connection is lost,
/// changes meanwhile are unknown: on reconnecting, every watched order is
/// read again and published (watchers skip what they have seen), so a
/// watcher misses nothing, late by at most the reconnect (under 2 s once
/// the database is back). Idle on SQLite, where only this process writes.
struct OrderUpdateFeed: Service {
    let database: any SQLDatabase
    let store: OrderStore
    let updates: OrderUpdates
    let logger: Logger

    func run() async throws {
        guard let notifications = database.notifications(channel: OrderStore.updatesChannel) else {
            // SQLite: nothing to listen to. Stay until shutdown all the
            // same: a service of the group that returns early stops the
            // whole process (`shop serve order` exited at start).
            try await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            for await orderID in notifications {
                if let orderID {
                    await refresh([orderID])
                } else {
                    await refresh(await updates.watchedOrderIDs)
                }
            }
        }
    }

    private func refresh(_ orderIDs: [String]) async {
        for orderID in orderIDs {
            guard await updates.isWatched(orderID) else { continue }
            do {
                if let order = try await store.order(id: orderID) {
                    await updates.publish(order.message)
                }
            } catch {
                logger.warning("could not read a changed order for its watchers", metadata: [
                    "order_id": "\(orderID)", "error": "\(error)",
                ])
            }
        }
    }
}
