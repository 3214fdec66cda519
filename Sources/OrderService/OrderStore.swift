import FrameRPC
import GRDB
import ServiceSupport
import ShopObservability
import ShopAPI

/// The order service's database: orders, their items and the outbox.
///
/// Every change to an order and the events it produces are written in one
/// transaction, so an event exists exactly when its change does. All access
/// goes through GRDB's async API (GRDB's queues, never a NIO event loop), and
/// a write is committed (synchronous=FULL) before the call is answered.
struct OrderStore: Sendable {
    private let pool: DatabasePool

    init(path: String, metrics: MetricsRegistry? = nil) throws {
        pool = try ServiceDatabase.open(at: path, migrations: Self.migrations, metrics: metrics)
    }

    static var migrations: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: orders, items, outbox") { db in
            try db.create(table: OrderRow.databaseTableName) { table in
                table.primaryKey("id", .text)
                table.column("user_id", .text).notNull()
                table.column("status", .text).notNull()
                table.column("total_amount", .integer).notNull()
                table.column("idempotency_key", .text)
                table.column("created_at", .integer).notNull()
                table.column("updated_at", .integer).notNull()
                table.uniqueKey(["user_id", "idempotency_key"])
            }
            try db.create(index: "orders_by_user", on: OrderRow.databaseTableName, columns: ["user_id", "created_at"])
            try db.create(index: "orders_by_time", on: OrderRow.databaseTableName, columns: ["created_at"])
            try db.create(table: OrderItemRow.databaseTableName) { table in
                table.column("order_id", .text).notNull()
                    .references(OrderRow.databaseTableName, column: "id", onDelete: .cascade)
                table.column("position", .integer).notNull()
                table.column("product_id", .text).notNull()
                table.column("quantity", .integer).notNull()
                table.column("unit_price", .integer).notNull()
                table.primaryKey(["order_id", "position"])
            }
            try db.create(table: OutboxEvent.databaseTableName) { table in
                table.autoIncrementedPrimaryKey("seq")
                table.column("id", .text).notNull().unique()
                table.column("destination", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("order_id", .text).notNull()
                table.column("user_id", .text).notNull()
                table.column("payload", .text).notNull()
                table.column("created_at", .integer).notNull()
                table.column("delivered_at", .integer)
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("last_error", .text)
                table.column("abandoned", .boolean).notNull().defaults(to: false)
            }
            try db.execute(sql: """
                CREATE INDEX outbox_pending ON outbox(destination, seq)
                WHERE delivered_at IS NULL AND abandoned = 0
                """)
        }
        // Events written before this carry no trace: their delivery starts one.
        migrator.registerMigration("v2: outbox trace context") { db in
            try db.alter(table: OutboxEvent.databaseTableName) { table in
                table.add(column: "trace_parent", .text)
                table.add(column: "request_id", .text)
            }
        }
        // Idempotency keys remember what they were used for; cancellations
        // say why; failed events wait out their own backoff, and each
        // order's oldest pending event is found by an index.
        migrator.registerMigration("v3: fingerprints, reasons, per-order outbox") { db in
            try db.alter(table: OrderRow.databaseTableName) { table in
                table.add(column: "request_fingerprint", .text)
                table.add(column: "cancellation_reason", .text)
                table.add(column: "status_detail", .text)
            }
            try db.alter(table: OutboxEvent.databaseTableName) { table in
                table.add(column: "next_attempt_at", .integer)
            }
            try db.execute(sql: """
                CREATE INDEX outbox_pending_by_order ON outbox(destination, order_id, seq)
                WHERE delivered_at IS NULL AND abandoned = 0
                """)
        }
        return migrator
    }

    // MARK: Orders

    func order(id: String) async throws -> StoredOrder? {
        try await pool.read { db in try Self.order(id: id, db) }
    }

    /// The order `userID` placed with `idempotencyKey`, if any.
    func order(userID: String, idempotencyKey: String) async throws -> StoredOrder? {
        try await pool.read { db in try Self.order(userID: userID, idempotencyKey: idempotencyKey, db) }
    }

    /// Newest first; only `userID`'s when given. Keyset on
    /// `(created_at, rowid)`: a page starts below the last key of the
    /// previous one, so orders placed while a client pages never repeat
    /// or hide one.
    ///
    /// - Returns: the page, the key of its last order, and whether more follow.
    func orders(userID: String?, cursor: PageCursor) async throws -> (orders: [StoredOrder], lastKey: [Int64]?, hasMore: Bool) {
        try await pool.read { db in
            var request = OrderRow.all()
            if let userID {
                request = request.filter(OrderRow.Columns.userID == userID)
            }
            if let after = cursor.after, after.count == 2 {
                request = request.filter(
                    sql: "(created_at < ? OR (created_at = ? AND rowid < ?))",
                    arguments: [after[0], after[0], after[1]]
                )
            }
            let fetched = try Row.fetchAll(db, request
                .select(AllColumns(), Column.rowID.forKey("page_rowid"))
                .order(OrderRow.Columns.createdAt.desc, Column.rowID.desc)
                .limit(cursor.size + 1, offset: cursor.skip))
            let page = fetched.prefix(cursor.size)
            let rows = try page.map { try OrderRow(row: $0) }
            let lastKey = page.last.map { [$0["created_at"] as Int64, $0["page_rowid"] as Int64] }
            let items = try OrderItemRow
                .filter(rows.map(\.id).contains(OrderItemRow.Columns.orderID))
                .order(OrderItemRow.Columns.orderID, OrderItemRow.Columns.position)
                .fetchAll(db)
            let itemsByOrder = Dictionary(grouping: items, by: \.orderID)
            return (rows.map { StoredOrder(row: $0, items: itemsByOrder[$0.id] ?? []) }, lastKey, fetched.count > cursor.size)
        }
    }

    enum Insertion: Sendable {
        case inserted(StoredOrder)
        /// The user already has an order under this idempotency key.
        case duplicate(StoredOrder)
    }

    /// Writes a new order, its items and its events in one transaction;
    /// or, when the user already has an order under the same idempotency
    /// key, writes nothing and answers with that order.
    func insert(_ order: StoredOrder, events: [OutboxEvent]) async throws -> Insertion {
        let outcome: Insertion? = try await pool.write { db in
            if let key = order.row.idempotencyKey,
               let existing = try Self.order(userID: order.row.userID, idempotencyKey: key, db) {
                return .duplicate(existing)
            }
            do {
                try order.row.insert(db)
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                // Another process won the race for this key; the row is
                // visible once this transaction ends.
                return nil
            }
            for item in order.items { try item.insert(db) }
            for var event in events { try event.insert(db) }
            return .inserted(order)
        }
        if let outcome { return outcome }
        guard let key = order.row.idempotencyKey,
              let existing = try await self.order(userID: order.row.userID, idempotencyKey: key) else {
            throw RPCError(code: .aborted, message: "the order conflicted with another; try again")
        }
        return .duplicate(existing)
    }

    /// Moves an order to `target` in one transaction with the events the
    /// move produces: a notification event `order_<status>`, and for a
    /// cancellation the release of its stock (an undelivered commit of the
    /// same order is dropped: releasing the reservation returns the units
    /// whether or not it was committed).
    ///
    /// - Parameters:
    ///   - cancellationDetail: for a cancellation, who asked for it (stored
    ///     as the order's status detail; the reason is "requested").
    ///   - authorize: throws when the caller may not change this order;
    ///     runs before the state machine is consulted.
    /// - Returns: the changed order and the events written.
    func transition(
        orderID: String,
        to target: Shop_Order_V1_OrderStatus,
        cancellationDetail: String? = nil,
        authorize: @escaping @Sendable (OrderRow) throws -> Void
    ) async throws -> (StoredOrder, [OutboxEvent]) {
        let origin = OutboxEvent.Origin.current
        return try await pool.write { db in
            guard var order = try Self.order(id: orderID, db) else {
                throw RPCError(code: .notFound, message: "order \(orderID) not found")
            }
            try authorize(order.row)
            try OrderStatusMachine.checkMove(from: order.status, to: target)
            let statusName = OrderStatusMachine.name(target)
            order.row.status = statusName
            order.row.updatedAt = max(StoredTime.now(), order.row.updatedAt + 1)
            if target == .cancelled {
                order.row.cancellationReason = CancellationCause.requested.rawValue
                order.row.statusDetail = cancellationDetail
            } else {
                order.row.statusDetail = nil
            }
            try order.row.update(db, columns: [
                OrderRow.Columns.status, OrderRow.Columns.updatedAt,
                OrderRow.Columns.cancellationReason, OrderRow.Columns.statusDetail,
            ])

            var events = [Self.notificationEvent(for: order, origin: origin)]
            if target == .cancelled {
                events.append(try Self.supersedeCommit(of: order, origin: origin, db))
            }
            for index in events.indices { try events[index].insert(db) }
            return (order, events)
        }
    }

    /// What settling a refused commit came to.
    enum RefusedCommitSettlement: Sendable {
        /// The order was cancelled for lack of stock; the events written
        /// (its notification and the release of whatever is still held).
        case cancelled(StoredOrder, [OutboxEvent])
        /// The order was already cancelled (or is gone): nothing to do.
        case alreadySettled
        /// The order has shipped or been delivered and cannot be cancelled:
        /// the event is set aside (abandoned) for a person to reconcile.
        case needsReconciliation(StoredOrder)
    }

    /// Settles an order whose commit the inventory service refused for good,
    /// in one transaction: the commit event is marked delivered (it has its
    /// answer), and a confirmed (or pending) order becomes cancelled with
    /// the reason `stock_unavailable` and `detail`, with an
    /// `order_cancelled_out_of_stock` notification and an inventory release
    /// of anything still held, both in the outbox.
    func settleRefusedCommit(event: OutboxEvent, detail: String, productID: String?) async throws -> RefusedCommitSettlement {
        try await pool.write { db in
            let now = StoredTime.now()
            guard var order = try Self.order(id: event.orderID, db), order.status != .cancelled else {
                try Self.settle(eventID: event.id, note: "refused: \(detail)", abandon: false, db)
                return .alreadySettled
            }
            guard OrderStatusMachine.canMove(from: order.status, to: .cancelled) else {
                try Self.settle(eventID: event.id, note: "refused after the order moved on: \(detail)", abandon: true, db)
                return .needsReconciliation(order)
            }
            try Self.settle(eventID: event.id, note: "refused: \(detail)", abandon: false, db)
            order.row.status = OrderStatusMachine.name(.cancelled)
            order.row.updatedAt = max(now, order.row.updatedAt + 1)
            order.row.cancellationReason = CancellationCause.stockUnavailable.rawValue
            order.row.statusDetail = detail
            try order.row.update(db, columns: [
                OrderRow.Columns.status, OrderRow.Columns.updatedAt,
                OrderRow.Columns.cancellationReason, OrderRow.Columns.statusDetail,
            ])
            var data = Self.notificationEvent(for: order).data
            data["product_id"] = productID
            let notice = OutboxEvent(
                destination: .notification, kind: OutboxEvent.Kind.orderCancelledOutOfStock,
                orderID: order.row.id, userID: order.row.userID, data: data, origin: event.origin
            )
            var events = [notice, try Self.supersedeCommit(of: order, origin: event.origin, db)]
            for index in events.indices { try events[index].insert(db) }
            return .cancelled(order, events)
        }
    }

    /// The event that tells the owner their order reached its status.
    static func notificationEvent(for order: StoredOrder, origin: OutboxEvent.Origin = .current) -> OutboxEvent {
        OutboxEvent(
            destination: .notification,
            kind: OutboxEvent.Kind.order(order.row.status),
            orderID: order.row.id,
            userID: order.row.userID,
            data: [
                "order_id": order.row.id,
                "status": order.row.status,
                "total": String(order.row.totalAmount),
                "items": String(order.items.count),
            ].merging(order.row.statusDetail.map { ["detail": $0] } ?? [:]) { first, _ in first },
            origin: origin
        )
    }

    /// For a cancellation: drops the order's undelivered commit (releasing
    /// returns the units whether or not it was committed) and makes the
    /// release event, to be inserted with the change.
    private static func supersedeCommit(of order: StoredOrder, origin: OutboxEvent.Origin, _ db: Database) throws -> OutboxEvent {
        try OutboxEvent
            .filter(OutboxEvent.Columns.orderID == order.row.id)
            .filter(OutboxEvent.Columns.kind == OutboxEvent.Kind.inventoryCommit)
            .filter(OutboxEvent.Columns.deliveredAt == nil)
            .filter(OutboxEvent.Columns.abandoned == false)
            .updateAll(db, OutboxEvent.Columns.deliveredAt.set(to: StoredTime.now()),
                       OutboxEvent.Columns.lastError.set(to: "superseded by the cancellation"))
        return OutboxEvent(
            destination: .inventory, kind: OutboxEvent.Kind.inventoryRelease,
            orderID: order.row.id, userID: order.row.userID, origin: origin
        )
    }

    /// Marks an event answered (delivered) or set aside (abandoned), with a note.
    private static func settle(eventID: String, note: String, abandon: Bool, _ db: Database) throws {
        var assignments = [OutboxEvent.Columns.attempts += 1, OutboxEvent.Columns.lastError.set(to: note)]
        if abandon {
            assignments.append(OutboxEvent.Columns.abandoned.set(to: true))
        } else {
            assignments.append(OutboxEvent.Columns.deliveredAt.set(to: StoredTime.now()))
        }
        _ = try OutboxEvent
            .filter(OutboxEvent.Columns.id == eventID)
            .filter(OutboxEvent.Columns.deliveredAt == nil)
            .updateAll(db, assignments)
    }

    // MARK: Outbox

    /// Writes a standalone event (such as the release of a reservation made
    /// for an order that was never written).
    func enqueue(_ event: OutboxEvent) async throws {
        try await pool.write { db in
            var event = event
            try event.insert(db)
        }
    }

    /// How many events for `destination` are still to deliver.
    func pendingCount(for destination: OutboxEvent.Destination) async throws -> Int {
        try await pool.read { db in
            try OutboxEvent
                .filter(OutboxEvent.Columns.destination == destination.rawValue)
                .filter(OutboxEvent.Columns.deliveredAt == nil)
                .filter(OutboxEvent.Columns.abandoned == false)
                .fetchCount(db)
        }
    }

    /// Up to `limit` events for `destination` that are due now: for each
    /// order, its oldest undelivered event, unless that one is waiting out
    /// its backoff. Oldest first.
    ///
    /// An order's later events wait behind its oldest (per-order order);
    /// events of other orders do not.
    func dueEvents(for destination: OutboxEvent.Destination, now: Int64, limit: Int) async throws -> [OutboxEvent] {
        try await pool.read { db in
            try OutboxEvent.fetchAll(db, sql: """
                SELECT outbox.* FROM outbox
                WHERE destination = ? AND delivered_at IS NULL AND abandoned = 0
                  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                  AND seq = (
                    SELECT MIN(head.seq) FROM outbox AS head
                    WHERE head.destination = outbox.destination AND head.order_id = outbox.order_id
                      AND head.delivered_at IS NULL AND head.abandoned = 0
                  )
                ORDER BY seq
                LIMIT ?
                """, arguments: [destination.rawValue, now, limit])
        }
    }

    /// When the earliest event for `destination` now waiting out its
    /// backoff becomes due; `nil` when none waits.
    func nextRetry(for destination: OutboxEvent.Destination, after now: Int64) async throws -> Int64? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: """
                SELECT MIN(next_attempt_at) FROM outbox
                WHERE destination = ? AND delivered_at IS NULL AND abandoned = 0 AND next_attempt_at > ?
                """, arguments: [destination.rawValue, now])
        }
    }

    /// The receiver acknowledged the event.
    func markDelivered(eventID: String) async throws {
        try await pool.write { db in
            _ = try OutboxEvent
                .filter(OutboxEvent.Columns.id == eventID)
                .filter(OutboxEvent.Columns.deliveredAt == nil)
                .filter(OutboxEvent.Columns.abandoned == false)
                .updateAll(db, OutboxEvent.Columns.deliveredAt.set(to: StoredTime.now()),
                           OutboxEvent.Columns.attempts += 1)
        }
    }

    /// A delivery failed; it will be tried again from `retryAt`
    /// (microseconds since 1970), and until then its order's later events
    /// wait.
    func recordFailure(eventID: String, reason: String, retryAt: Int64) async throws {
        try await pool.write { db in
            _ = try OutboxEvent
                .filter(OutboxEvent.Columns.id == eventID)
                .updateAll(db, OutboxEvent.Columns.attempts += 1, OutboxEvent.Columns.lastError.set(to: reason),
                           OutboxEvent.Columns.nextAttemptAt.set(to: retryAt))
        }
    }

    /// The receiver refused the event for good; stop trying.
    func markAbandoned(eventID: String, reason: String) async throws {
        try await pool.write { db in
            _ = try OutboxEvent
                .filter(OutboxEvent.Columns.id == eventID)
                .updateAll(db, OutboxEvent.Columns.attempts += 1,
                           OutboxEvent.Columns.lastError.set(to: reason),
                           OutboxEvent.Columns.abandoned.set(to: true))
        }
    }

    // MARK: Helpers inside a transaction

    private static func order(id: String, _ db: Database) throws -> StoredOrder? {
        guard let row = try OrderRow.fetchOne(db, key: id) else { return nil }
        return StoredOrder(row: row, items: try items(of: id, db))
    }

    private static func order(userID: String, idempotencyKey: String, _ db: Database) throws -> StoredOrder? {
        guard let row = try OrderRow
            .filter(OrderRow.Columns.userID == userID)
            .filter(OrderRow.Columns.idempotencyKey == idempotencyKey)
            .fetchOne(db) else { return nil }
        return StoredOrder(row: row, items: try items(of: row.id, db))
    }

    private static func items(of orderID: String, _ db: Database) throws -> [OrderItemRow] {
        try OrderItemRow
            .filter(OrderItemRow.Columns.orderID == orderID)
            .order(OrderItemRow.Columns.position)
            .fetchAll(db)
    }
}
