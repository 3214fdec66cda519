import Foundation
import ShopAPI
import ShopStorage

/// The notification database's delivery half: one row per notification and
/// channel (``StoredDelivery``), written in the same transaction as the
/// notification itself, so a notification acknowledged to the order
/// service is also one its channels will send, whatever crashes follow.
///
/// The ``DeliveryRelay`` claims due rows with a lease (their
/// `next_attempt_at` moves past the send's time limit in the claiming
/// transaction, by an `UPDATE` conditional on the value it read), so a row
/// is never sent by two rounds at once, and a process that dies mid-send
/// leaves the row due again after the lease. On PostgreSQL the due rows are
/// read `FOR UPDATE SKIP LOCKED`, so the relays of several replicas
/// claiming at once take different rows instead of waiting on each other.
struct DeliveryStore: Sendable {
    /// The notification store's database (``NotificationStore/database``).
    private let database: any SQLDatabase

    init(_ database: any SQLDatabase) {
        self.database = database
    }

    /// Appended to ``NotificationStore/migrations``: the name is the one
    /// earlier versions recorded. `content` is the rendered message or
    /// JSON body, always UTF-8 text (files made before stored it as a
    /// BLOB; SQLite reads those back as the same text).
    static let migrations: [SQLMigration] = [
        SQLMigration("v2: deliveries") { _ in
            [
                """
                CREATE TABLE delivery (
                    notification_id TEXT NOT NULL REFERENCES notification (id) ON DELETE CASCADE,
                    channel TEXT NOT NULL,
                    recipient TEXT NOT NULL,
                    content TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts BIGINT NOT NULL,
                    receipt TEXT NOT NULL,
                    last_error TEXT NOT NULL,
                    next_attempt_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (notification_id, channel)
                )
                """,
                "CREATE INDEX delivery_due ON delivery (state, next_attempt_at)",
            ]
        },
    ]

    private static let columns = """
        notification_id, channel, recipient, content, state, attempts, receipt, last_error, next_attempt_at, updated_at
        """
    private static let pending = StoredDelivery.State.pending.rawValue

    /// Stores `notification` and its `deliveries` unless its event id is
    /// stored already, in one write transaction; returns the stored
    /// notification (with its deliveries) and whether it was created now.
    func insertOnce(_ notification: Shop_Notification_V1_Notification, deliveries: [StoredDelivery]) async throws -> (Shop_Notification_V1_Notification, created: Bool) {
        let row = StoredNotification(notification)
        return try await database.write { db in
            let (stored, created) = try await NotificationStore.insertOnce(row, db)
            var message = stored.message
            guard created else {
                message.deliveries = try await Self.deliveries(of: [stored.id], db)[stored.id] ?? []
                return (message, false)
            }
            for delivery in deliveries { try await Self.insert(delivery, db) }
            message.deliveries = deliveries.map(\.message)
            return (message, true)
        }
    }

    /// Up to `limit` pending deliveries due at `now`, oldest due first,
    /// each leased until `now + lease`.
    func claimDue(now: Int64, lease: Int64, limit: Int) async throws -> [StoredDelivery] {
        try await database.write { db in
            let due = try await db.query(
                """
                SELECT \(Self.columns) FROM delivery
                WHERE state = ? AND next_attempt_at <= ?
                ORDER BY next_attempt_at
                LIMIT ?\(db.dialect.forUpdateSkipLocked)
                """,
                [Self.pending, now, limit]
            ).map(Self.delivery)
            var claimed: [StoredDelivery] = []
            for var delivery in due {
                let changed = try await db.execute(
                    """
                    UPDATE delivery SET next_attempt_at = ?
                    WHERE notification_id = ? AND channel = ? AND state = ? AND next_attempt_at = ?
                    """,
                    [now + lease, delivery.notificationID, delivery.channel, Self.pending, delivery.nextAttemptAt]
                )
                if changed == 1 {
                    delivery.nextAttemptAt = now + lease
                    claimed.append(delivery)
                }
            }
            return claimed
        }
    }

    /// When the next pending delivery falls due, if any is pending.
    func nextDue() async throws -> Int64? {
        try await database.read { db in
            try await db.queryOne("SELECT MIN(next_attempt_at) AS due FROM delivery WHERE state = ?", [Self.pending])?
                .optionalInt64("due")
        }
    }

    func pendingCount() async throws -> Int {
        try await database.read { db in
            try await db.queryOne("SELECT COUNT(*) AS pending FROM delivery WHERE state = ?", [Self.pending])?.int("pending") ?? 0
        }
    }

    func markSent(_ delivery: StoredDelivery, receipt: String) async throws {
        try await settle(delivery, "state = ?, receipt = ?, last_error = ?", [StoredDelivery.State.sent.rawValue, String(receipt.prefix(500)), ""])
    }

    /// One more failed attempt; due again at `retryAt`.
    func recordFailure(_ delivery: StoredDelivery, reason: String, retryAt: Int64) async throws {
        try await settle(delivery, "last_error = ?, next_attempt_at = ?", [String(reason.prefix(500)), retryAt])
    }

    /// Given up: no more attempts.
    func markFailed(_ delivery: StoredDelivery, reason: String) async throws {
        try await settle(delivery, "state = ?, last_error = ?", [StoredDelivery.State.failed.rawValue, String(reason.prefix(500))])
    }

    /// Counts the attempt and applies `assignments` (fixed SQL, values
    /// bound) to the row if it is still pending.
    private func settle(_ delivery: StoredDelivery, _ assignments: String, _ values: [any SQLBindable]) async throws {
        let now = DeliveryClock.now()
        try await database.write { db in
            try await db.execute(
                """
                UPDATE delivery SET \(assignments), attempts = attempts + 1, updated_at = ?
                WHERE notification_id = ? AND channel = ? AND state = ?
                """,
                values + [now, delivery.notificationID, delivery.channel, Self.pending]
            )
        }
    }

    /// The deliveries of each notification, by notification id.
    func deliveries(of notificationIDs: [String]) async throws -> [String: [Shop_Notification_V1_Delivery]] {
        guard !notificationIDs.isEmpty else { return [:] }
        return try await database.read { db in try await Self.deliveries(of: notificationIDs, db) }
    }

    private static func deliveries(of notificationIDs: [String], _ db: any SQLTransaction) async throws -> [String: [Shop_Notification_V1_Delivery]] {
        let rows = try await db.query(
            """
            SELECT \(columns) FROM delivery
            WHERE notification_id IN (\(Array(repeating: "?", count: notificationIDs.count).joined(separator: ", ")))
            ORDER BY notification_id, channel
            """,
            notificationIDs
        ).map(delivery)
        return Dictionary(grouping: rows, by: \.notificationID).mapValues { $0.map(\.message) }
    }

    /// The stored rows of one notification, for tests and tools.
    func rows(of notificationID: String) async throws -> [StoredDelivery] {
        try await database.read { db in
            try await db.query("SELECT \(Self.columns) FROM delivery WHERE notification_id = ? ORDER BY channel", [notificationID])
                .map(Self.delivery)
        }
    }

    private static func insert(_ delivery: StoredDelivery, _ db: any SQLTransaction) async throws {
        try await db.execute(
            "INSERT INTO delivery (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [delivery.notificationID, delivery.channel, delivery.recipient, String(decoding: delivery.content, as: UTF8.self),
             delivery.state, delivery.attempts, delivery.receipt, delivery.lastError, delivery.nextAttemptAt, delivery.updatedAt]
        )
    }

    private static func delivery(_ row: SQLRow) throws -> StoredDelivery {
        StoredDelivery(
            notificationID: try row.string("notification_id"),
            channel: try row.string("channel"),
            recipient: try row.string("recipient"),
            content: Data(try row.string("content").utf8),
            state: try row.string("state"),
            attempts: try row.int("attempts"),
            receipt: try row.string("receipt"),
            lastError: try row.string("last_error"),
            nextAttemptAt: try row.int64("next_attempt_at"),
            updatedAt: try row.int64("updated_at")
        )
    }
}
