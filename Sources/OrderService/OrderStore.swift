import FrameRPC
import ShopStorage
import ServiceSupport
import ShopAPI

/// The order service's database: orders, their items and the outbox, in
/// its own SQLite file or in the `order` schema of a shared PostgreSQL
/// database.
///
/// Every change to an order and the events it produces are written in one
/// transaction, so an event exists exactly when its change does; a write
/// has committed before the call is answered. With several replicas on one
/// PostgreSQL database, what must happen once is the database's decision:
/// an idempotency key names one order (a UNIQUE index), a status change
/// locks its order's row, outbox events are claimed by one relay at a time
/// (``claimDueEvents(for:now:limit:)``), and every status change is
/// announced to the other replicas' WatchOrder streams (``updatesChannel``).
struct OrderStore: Sendable {
    private let database: any SQLDatabase

    init(_ database: any SQLDatabase) {
        self.database = database
    }

    /// The notification channel on which every status change names its
    /// order id (PostgreSQL `NOTIFY`, sent when the change commits).
    static let updatesChannel = "shop_order_updates"

    /// How long a relay's claim on an event lasts: a relay that dies with
    /// an event in flight leaves it to another after this (at least once).
    /// Longer than a claimed batch can take (``claimBatch`` events, 8 at a
    /// time, each bounded by a 5 s call).
    static let claimMicroseconds: Int64 = 30_000_000
    static let claimBatch = 32

    static let migrations: [SQLMigration] = [
        SQLMigration("v1: orders, items, outbox") { dialect in
            [
                """
                CREATE TABLE orders (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    total_amount BIGINT NOT NULL,
                    idempotency_key TEXT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    UNIQUE (user_id, idempotency_key)
                )
                """,
                "CREATE INDEX orders_by_user ON orders (user_id, created_at)",
                "CREATE INDEX orders_by_time ON orders (created_at)",
                """
                CREATE TABLE order_items (
                    order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
                    position BIGINT NOT NULL,
                    product_id TEXT NOT NULL,
                    quantity BIGINT NOT NULL,
                    unit_price BIGINT NOT NULL,
                    PRIMARY KEY (order_id, position)
                )
                """,
                """
                CREATE TABLE outbox (
                    seq \(dialect.autoIncrementPrimaryKey),
                    id TEXT NOT NULL UNIQUE,
                    destination TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    order_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    delivered_at BIGINT,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    last_error TEXT,
                    abandoned BOOLEAN NOT NULL DEFAULT FALSE
                )
                """,
                """
                CREATE INDEX outbox_pending ON outbox (destination, seq)
                WHERE delivered_at IS NULL AND abandoned = FALSE
                """,
            ]
        },
        // Events written before this carry no trace: their delivery starts one.
        SQLMigration("v2: outbox trace context") { _ in
            [
                "ALTER TABLE outbox ADD COLUMN trace_parent TEXT",
                "ALTER TABLE outbox ADD COLUMN request_id TEXT",
            ]
        },
        // Idempotency keys remember what they were used for; cancellations
        // say why; failed events wait out their own backoff, and each
        // order's oldest pending event is found by an index.
        SQLMigration("v3: fingerprints, reasons, per-order outbox") { _ in
            [
                "ALTER TABLE orders ADD COLUMN request_fingerprint TEXT",
                "ALTER TABLE orders ADD COLUMN cancellation_reason TEXT",
                "ALTER TABLE orders ADD COLUMN status_detail TEXT",
                "ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT",
                """
                CREATE INDEX outbox_pending_by_order ON outbox (destination, order_id, seq)
                WHERE delivered_at IS NULL AND abandoned = FALSE
                """,
            ]
        },
        // Several relays (one per replica) share the outbox: an event a
        // relay has claimed is not due for the others until the claim ends.
        SQLMigration("v4: outbox claims") { _ in
            ["ALTER TABLE outbox ADD COLUMN claimed_until BIGINT"]
        },
    ]

    // MARK: Orders

    func order(id: String) async throws -> StoredOrder? {
        try await database.read { db in try await Self.order(id: id, db) }
    }

    /// The order `userID` placed with `idempotencyKey`, if any.
    func order(userID: String, idempotencyKey: String) async throws -> StoredOrder? {
        try await database.read { db in try await Self.order(userID: userID, idempotencyKey: idempotencyKey, db) }
    }

    /// Newest first; only `userID`'s when given. Keyset on
    /// `(created_at, id)` (columns both backends have; `id` breaks ties
    /// between orders of the same microsecond): a page starts below the
    /// last key of the previous one, so orders placed while a client pages
    /// never repeat or hide one.
    ///
    /// - Returns: the page, the key of its last order (`created_at`, and
    ///   its `id` as the text tie-breaker), and whether more follow.
    func orders(userID: String?, cursor: PageCursor) async throws -> (orders: [StoredOrder], lastKey: (createdAt: Int64, id: String)?, hasMore: Bool) {
        try await database.read { db in
            let query = cursor.newestFirstQuery(columns: Self.orderColumns, table: "orders", userID: userID)
            let fetched = try await db.query(query.sql, query.arguments).map(Self.orderRow)
            let rows = Array(fetched.prefix(cursor.size))
            let lastKey = rows.last.map { (createdAt: $0.createdAt, id: $0.id) }
            guard !rows.isEmpty else { return ([], lastKey, false) }
            let items = try await db.query(
                """
                SELECT \(Self.itemColumns) FROM order_items WHERE order_id IN (\(Self.placeholders(rows.count)))
                ORDER BY order_id, position
                """,
                rows.map(\.id)
            ).map(Self.itemRow)
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
        do {
            return try await database.write { db in
                if let key = order.row.idempotencyKey,
                   let existing = try await Self.order(userID: order.row.userID, idempotencyKey: key, db) {
                    return .duplicate(existing)
                }
                try await Self.insert(order.row, db)
                for item in order.items { try await Self.insert(item, db) }
                for event in events { try await Self.insert(event, db) }
                return .inserted(order)
            }
        } catch let error as StorageError where error.kind == .uniqueViolation {
            // Another process (or replica) won the race for this key; its
            // order is visible now that this transaction has rolled back.
            guard let key = order.row.idempotencyKey,
                  let existing = try await self.order(userID: order.row.userID, idempotencyKey: key) else {
                throw RPCError(code: .aborted, message: "the order conflicted with another; try again")
            }
            return .duplicate(existing)
        }
    }

    /// Moves an order to `target` in one transaction with the events the
    /// move produces: a notification event `order_<status>`, and for a
    /// cancellation the release of its stock (an undelivered commit of the
    /// same order is dropped: releasing the reservation returns the units
    /// whether or not it was committed). The order's row is locked first,
    /// so concurrent moves on several replicas are judged one after the
    /// other by the state machine.
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
        return try await database.write { db in
            guard var order = try await Self.order(id: orderID, db, locking: true) else {
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
            try await Self.updateStatus(order.row, db)

            var events = [Self.notificationEvent(for: order, origin: origin)]
            if target == .cancelled {
                events.append(try await Self.supersedeCommit(of: order, origin: origin, db))
            }
            for event in events { try await Self.insert(event, db) }
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
    /// in one transaction (the order's row locked): the commit event is
    /// marked delivered (it has its answer), and a confirmed (or pending)
    /// order becomes cancelled with the reason `stock_unavailable` and
    /// `detail`, with an `order_cancelled_out_of_stock` notification and an
    /// inventory release of anything still held, both in the outbox.
    func settleRefusedCommit(event: OutboxEvent, detail: String, productID: String?) async throws -> RefusedCommitSettlement {
        try await database.write { db in
            let now = StoredTime.now()
            guard var order = try await Self.order(id: event.orderID, db, locking: true), order.status != .cancelled else {
                try await Self.settle(eventID: event.id, note: "refused: \(detail)", abandon: false, db)
                return .alreadySettled
            }
            guard OrderStatusMachine.canMove(from: order.status, to: .cancelled) else {
                try await Self.settle(eventID: event.id, note: "refused after the order moved on: \(detail)", abandon: true, db)
                return .needsReconciliation(order)
            }
            try await Self.settle(eventID: event.id, note: "refused: \(detail)", abandon: false, db)
            order.row.status = OrderStatusMachine.name(.cancelled)
            order.row.updatedAt = max(now, order.row.updatedAt + 1)
            order.row.cancellationReason = CancellationCause.stockUnavailable.rawValue
            order.row.statusDetail = detail
            try await Self.updateStatus(order.row, db)
            var data = Self.notificationEvent(for: order).data
            data["product_id"] = productID
            let notice = OutboxEvent(
                destination: .notification, kind: OutboxEvent.Kind.orderCancelledOutOfStock,
                orderID: order.row.id, userID: order.row.userID, data: data, origin: event.origin
            )
            let events = [notice, try await Self.supersedeCommit(of: order, origin: event.origin, db)]
            for event in events { try await Self.insert(event, db) }
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
    private static func supersedeCommit(of order: StoredOrder, origin: OutboxEvent.Origin, _ db: any SQLTransaction) async throws -> OutboxEvent {
        try await db.execute(
            """
            UPDATE outbox SET delivered_at = ?, last_error = ?, claimed_until = NULL
            WHERE order_id = ? AND kind = ? AND delivered_at IS NULL AND abandoned = FALSE
            """,
            [StoredTime.now(), "superseded by the cancellation", order.row.id, OutboxEvent.Kind.inventoryCommit]
        )
        return OutboxEvent(
            destination: .inventory, kind: OutboxEvent.Kind.inventoryRelease,
            orderID: order.row.id, userID: order.row.userID, origin: origin
        )
    }

    /// Marks an event answered (delivered) or set aside (abandoned), with a note.
    private static func settle(eventID: String, note: String, abandon: Bool, _ db: any SQLTransaction) async throws {
        let settled = abandon ? "abandoned = TRUE" : "delivered_at = ?"
        let arguments: [any SQLBindable] = abandon ? [note, eventID] : [note, StoredTime.now(), eventID]
        try await db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, \(settled), claimed_until = NULL WHERE id = ? AND delivered_at IS NULL",
            arguments
        )
    }

    // MARK: Outbox

    /// Writes a standalone event (such as the release of a reservation made
    /// for an order that was never written).
    func enqueue(_ event: OutboxEvent) async throws {
        try await database.write { db in try await Self.insert(event, db) }
    }

    /// How many events for `destination` are still to deliver.
    func pendingCount(for destination: OutboxEvent.Destination) async throws -> Int {
        try await database.read { db in
            try await db.queryOne(
                "SELECT COUNT(*) AS pending FROM outbox WHERE destination = ? AND delivered_at IS NULL AND abandoned = FALSE",
                [destination.rawValue]
            )?.int("pending") ?? 0
        }
    }

    /// Claims up to `limit` events for `destination` that are due now and
    /// returns them, oldest first: for each order, its oldest undelivered
    /// event, unless that one is waiting out its backoff or another relay
    /// holds it (its claim has not ended).
    ///
    /// An order's later events wait behind its oldest (per-order order);
    /// events of other orders do not. The claim lasts ``claimMicroseconds``
    /// and ends when the event is settled. On PostgreSQL the rows are taken
    /// `FOR UPDATE SKIP LOCKED`, so relays claiming at the same moment take
    /// different events: each event is delivered once while its relay
    /// lives, and again by another after its claim ends if the relay died.
    func claimDueEvents(for destination: OutboxEvent.Destination, now: Int64, limit: Int) async throws -> [OutboxEvent] {
        try await database.write { db in
            let events = try await db.query(
                """
                SELECT \(Self.outboxColumns) FROM outbox
                WHERE destination = ? AND delivered_at IS NULL AND abandoned = FALSE
                  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                  AND (claimed_until IS NULL OR claimed_until <= ?)
                  AND seq = (
                    SELECT MIN(head.seq) FROM outbox AS head
                    WHERE head.destination = outbox.destination AND head.order_id = outbox.order_id
                      AND head.delivered_at IS NULL AND head.abandoned = FALSE
                  )
                ORDER BY seq
                LIMIT ?\(db.dialect.forUpdateSkipLocked)
                """,
                [destination.rawValue, now, now, limit]
            ).map(Self.event)
            guard !events.isEmpty else { return [] }
            try await db.execute(
                "UPDATE outbox SET claimed_until = ? WHERE id IN (\(Self.placeholders(events.count)))",
                [now + Self.claimMicroseconds as any SQLBindable] + events.map { $0.id as any SQLBindable }
            )
            return events
        }
    }

    /// When the earliest event for `destination` now waiting out its
    /// backoff or another relay's claim becomes due; `nil` when none waits.
    func nextRetry(for destination: OutboxEvent.Destination, after now: Int64) async throws -> Int64? {
        try await database.read { db in
            let retry = try await db.queryOne(
                """
                SELECT MIN(next_attempt_at) AS due FROM outbox
                WHERE destination = ? AND delivered_at IS NULL AND abandoned = FALSE AND next_attempt_at > ?
                """,
                [destination.rawValue, now]
            )?.optionalInt64("due")
            let claimEnd = try await db.queryOne(
                """
                SELECT MIN(claimed_until) AS due FROM outbox
                WHERE destination = ? AND delivered_at IS NULL AND abandoned = FALSE AND claimed_until > ?
                """,
                [destination.rawValue, now]
            )?.optionalInt64("due")
            return [retry, claimEnd].compactMap { $0 }.min()
        }
    }

    /// The receiver acknowledged the event.
    func markDelivered(eventID: String) async throws {
        try await database.write { db in
            try await db.execute(
                """
                UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, claimed_until = NULL
                WHERE id = ? AND delivered_at IS NULL AND abandoned = FALSE
                """,
                [StoredTime.now(), eventID]
            )
        }
    }

    /// A delivery failed; it will be tried again from `retryAt`
    /// (microseconds since 1970), and until then its order's later events
    /// wait.
    func recordFailure(eventID: String, reason: String, retryAt: Int64) async throws {
        try await database.write { db in
            try await db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_until = NULL WHERE id = ?",
                [reason, retryAt, eventID]
            )
        }
    }

    /// The receiver refused the event for good; stop trying.
    func markAbandoned(eventID: String, reason: String) async throws {
        try await database.write { db in
            try await db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, abandoned = TRUE, claimed_until = NULL WHERE id = ?",
                [reason, eventID]
            )
        }
    }

    // MARK: Rows

    private static let orderColumns = """
        id, user_id, status, total_amount, idempotency_key, request_fingerprint, cancellation_reason, status_detail, \
        created_at, updated_at
        """
    private static let itemColumns = "order_id, position, product_id, quantity, unit_price"
    private static let outboxColumns = """
        seq, id, destination, kind, order_id, user_id, payload, created_at, delivered_at, attempts, last_error, \
        abandoned, next_attempt_at, trace_parent, request_id
        """

    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    private static func orderRow(_ row: SQLRow) throws -> OrderRow {
        OrderRow(
            id: try row.string("id"),
            userID: try row.string("user_id"),
            status: try row.string("status"),
            totalAmount: try row.int64("total_amount"),
            idempotencyKey: try row.optionalString("idempotency_key"),
            requestFingerprint: try row.optionalString("request_fingerprint"),
            cancellationReason: try row.optionalString("cancellation_reason"),
            statusDetail: try row.optionalString("status_detail"),
            createdAt: try row.int64("created_at"),
            updatedAt: try row.int64("updated_at")
        )
    }

    private static func itemRow(_ row: SQLRow) throws -> OrderItemRow {
        OrderItemRow(
            orderID: try row.string("order_id"),
            position: try row.int("position"),
            productID: try row.string("product_id"),
            quantity: Int32(clamping: try row.int64("quantity")),
            unitPrice: try row.int64("unit_price")
        )
    }

    private static func event(_ row: SQLRow) throws -> OutboxEvent {
        guard let destination = OutboxEvent.Destination(rawValue: try row.string("destination")) else {
            throw RPCError(code: .internal, message: "an outbox event has an unknown destination")
        }
        return OutboxEvent(
            seq: try row.int64("seq"),
            id: try row.string("id"),
            destination: destination,
            kind: try row.string("kind"),
            orderID: try row.string("order_id"),
            userID: try row.string("user_id"),
            payload: try row.string("payload"),
            createdAt: try row.int64("created_at"),
            deliveredAt: try row.optionalInt64("delivered_at"),
            attempts: try row.int("attempts"),
            lastError: try row.optionalString("last_error"),
            abandoned: try row.bool("abandoned"),
            nextAttemptAt: try row.optionalInt64("next_attempt_at"),
            traceParent: try row.optionalString("trace_parent"),
            requestID: try row.optionalString("request_id")
        )
    }

    // MARK: Helpers inside a transaction

    private static func insert(_ row: OrderRow, _ db: any SQLTransaction) async throws {
        try await db.execute(
            "INSERT INTO orders (\(orderColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row.id, row.userID, row.status, row.totalAmount, row.idempotencyKey, row.requestFingerprint,
             row.cancellationReason, row.statusDetail, row.createdAt, row.updatedAt]
        )
    }

    private static func insert(_ item: OrderItemRow, _ db: any SQLTransaction) async throws {
        try await db.execute(
            "INSERT INTO order_items (\(itemColumns)) VALUES (?, ?, ?, ?, ?)",
            [item.orderID, item.position, item.productID, item.quantity, item.unitPrice]
        )
    }

    private static func insert(_ event: OutboxEvent, _ db: any SQLTransaction) async throws {
        try await db.execute(
            """
            INSERT INTO outbox (id, destination, kind, order_id, user_id, payload, created_at, delivered_at, attempts,
                                last_error, abandoned, next_attempt_at, trace_parent, request_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [event.id, event.destination.rawValue, event.kind, event.orderID, event.userID, event.payload, event.createdAt,
             event.deliveredAt, event.attempts, event.lastError, event.abandoned, event.nextAttemptAt,
             event.traceParent, event.requestID]
        )
    }

    /// Writes a status change and announces it to every replica's watchers
    /// (delivered when the transaction commits).
    private static func updateStatus(_ row: OrderRow, _ db: any SQLTransaction) async throws {
        try await db.execute(
            "UPDATE orders SET status = ?, updated_at = ?, cancellation_reason = ?, status_detail = ? WHERE id = ?",
            [row.status, row.updatedAt, row.cancellationReason, row.statusDetail, row.id]
        )
        try await db.notify(channel: updatesChannel, payload: row.id)
    }

    private static func order(id: String, _ db: any SQLTransaction, locking: Bool = false) async throws -> StoredOrder? {
        let lock = locking ? db.dialect.forUpdate : ""
        guard let row = try await db.queryOne("SELECT \(orderColumns) FROM orders WHERE id = ?\(lock)", [id]).map(orderRow) else {
            return nil
        }
        return StoredOrder(row: row, items: try await items(of: id, db))
    }

    private static func order(userID: String, idempotencyKey: String, _ db: any SQLTransaction) async throws -> StoredOrder? {
        guard let row = try await db.queryOne(
            "SELECT \(orderColumns) FROM orders WHERE user_id = ? AND idempotency_key = ?", [userID, idempotencyKey]
        ).map(orderRow) else { return nil }
        return StoredOrder(row: row, items: try await items(of: row.id, db))
    }

    private static func items(of orderID: String, _ db: any SQLTransaction) async throws -> [OrderItemRow] {
        try await db.query("SELECT \(itemColumns) FROM order_items WHERE order_id = ? ORDER BY position", [orderID])
            .map(itemRow)
    }
}
