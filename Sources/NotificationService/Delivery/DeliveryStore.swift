import GRDB
import ShopAPI

/// The notification database's delivery half: one row per notification and
/// channel (``StoredDelivery``), written in the same transaction as the
/// notification itself, so a notification acknowledged to the order
/// service is also one its channels will send, whatever crashes follow.
///
/// The ``DeliveryRelay`` claims due rows with a lease (their
/// `next_attempt_at` moves past the send's time limit in the claiming
/// transaction), so a row is never sent by two rounds at once, and a
/// process that dies mid-send leaves the row due again after the lease.
struct DeliveryStore: Sendable {
    let pool: DatabasePool

    static func registerMigrations(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2: deliveries") { db in
            try db.create(table: StoredDelivery.databaseTableName) { table in
                table.column("notification_id", .text).notNull()
                    .references(StoredNotification.databaseTableName, column: "id", onDelete: .cascade)
                table.column("channel", .text).notNull()
                table.column("recipient", .text).notNull()
                table.column("content", .blob).notNull()
                table.column("state", .text).notNull()
                table.column("attempts", .integer).notNull()
                table.column("receipt", .text).notNull()
                table.column("last_error", .text).notNull()
                table.column("next_attempt_at", .integer).notNull()
                table.column("updated_at", .integer).notNull()
                table.primaryKey(["notification_id", "channel"])
            }
            try db.create(index: "delivery_due", on: StoredDelivery.databaseTableName, columns: ["state", "next_attempt_at"])
        }
    }

    /// Stores `notification` and its `deliveries` unless its event id is
    /// stored already; returns the stored notification (with its
    /// deliveries) and whether it was created now.
    func insertOnce(_ notification: Shop_Notification_V1_Notification, deliveries: [StoredDelivery]) async throws -> (Shop_Notification_V1_Notification, created: Bool) {
        try await pool.write { db in
            if let existing = try StoredNotification.filter(StoredNotification.Columns.eventID == notification.eventID).fetchOne(db) {
                var message = existing.message
                message.deliveries = try Self.deliveries(of: [existing.id], db)[existing.id] ?? []
                return (message, false)
            }
            let row = StoredNotification(notification)
            try row.insert(db)
            for delivery in deliveries { try delivery.insert(db) }
            var message = row.message
            message.deliveries = deliveries.map(\.message)
            return (message, true)
        }
    }

    /// Up to `limit` pending deliveries due at `now`, oldest due first,
    /// each leased until `now + lease`.
    func claimDue(now: Int64, lease: Int64, limit: Int) async throws -> [StoredDelivery] {
        try await pool.write { db in
            let due = try StoredDelivery
                .filter(StoredDelivery.Columns.state == StoredDelivery.State.pending.rawValue)
                .filter(StoredDelivery.Columns.nextAttemptAt <= now)
                .order(StoredDelivery.Columns.nextAttemptAt)
                .limit(limit)
                .fetchAll(db)
            var claimed: [StoredDelivery] = []
            for var delivery in due {
                let changed = try StoredDelivery
                    .filter(StoredDelivery.Columns.notificationID == delivery.notificationID)
                    .filter(StoredDelivery.Columns.channel == delivery.channel)
                    .filter(StoredDelivery.Columns.nextAttemptAt == delivery.nextAttemptAt)
                    .updateAll(db, StoredDelivery.Columns.nextAttemptAt.set(to: now + lease))
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
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM delivery WHERE state = ?", arguments: [StoredDelivery.State.pending.rawValue])
        }
    }

    func pendingCount() async throws -> Int {
        try await pool.read { db in
            try StoredDelivery.filter(StoredDelivery.Columns.state == StoredDelivery.State.pending.rawValue).fetchCount(db)
        }
    }

    func markSent(_ delivery: StoredDelivery, receipt: String) async throws {
        let receipt = String(receipt.prefix(500))
        try await settle(delivery) {[
            StoredDelivery.Columns.state.set(to: StoredDelivery.State.sent.rawValue),
            StoredDelivery.Columns.receipt.set(to: receipt),
            StoredDelivery.Columns.lastError.set(to: ""),
        ]}
    }

    /// One more failed attempt; due again at `retryAt`.
    func recordFailure(_ delivery: StoredDelivery, reason: String, retryAt: Int64) async throws {
        let reason = String(reason.prefix(500))
        try await settle(delivery) {[
            StoredDelivery.Columns.lastError.set(to: reason),
            StoredDelivery.Columns.nextAttemptAt.set(to: retryAt),
        ]}
    }

    /// Given up: no more attempts.
    func markFailed(_ delivery: StoredDelivery, reason: String) async throws {
        let reason = String(reason.prefix(500))
        try await settle(delivery) {[
            StoredDelivery.Columns.state.set(to: StoredDelivery.State.failed.rawValue),
            StoredDelivery.Columns.lastError.set(to: reason),
        ]}
    }

    /// Counts the attempt and applies `assignments` to a still-pending row.
    private func settle(_ delivery: StoredDelivery, _ assignments: @escaping @Sendable () -> [ColumnAssignment]) async throws {
        let now = DeliveryClock.now()
        _ = try await pool.write { db in
            try StoredDelivery
                .filter(StoredDelivery.Columns.notificationID == delivery.notificationID)
                .filter(StoredDelivery.Columns.channel == delivery.channel)
                .filter(StoredDelivery.Columns.state == StoredDelivery.State.pending.rawValue)
                .updateAll(db, assignments() + [StoredDelivery.Columns.attempts += 1, StoredDelivery.Columns.updatedAt.set(to: now)])
        }
    }

    /// The deliveries of each notification, by notification id.
    func deliveries(of notificationIDs: [String]) async throws -> [String: [Shop_Notification_V1_Delivery]] {
        guard !notificationIDs.isEmpty else { return [:] }
        return try await pool.read { db in try Self.deliveries(of: notificationIDs, db) }
    }

    private static func deliveries(of notificationIDs: [String], _ db: Database) throws -> [String: [Shop_Notification_V1_Delivery]] {
        let rows = try StoredDelivery
            .filter(notificationIDs.contains(StoredDelivery.Columns.notificationID))
            .order(StoredDelivery.Columns.channel)
            .fetchAll(db)
        return Dictionary(grouping: rows, by: \.notificationID).mapValues { $0.map(\.message) }
    }

    /// The stored rows of one notification, for tests and tools.
    func rows(of notificationID: String) async throws -> [StoredDelivery] {
        try await pool.read { db in
            try StoredDelivery.filter(StoredDelivery.Columns.notificationID == notificationID).order(StoredDelivery.Columns.channel).fetchAll(db)
        }
    }
}
