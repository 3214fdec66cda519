import GRDB
import ServiceSupport
import ShopObservability
import ShopAPI

/// The notification service's database: its notifications, one per event id.
///
/// Every access runs through GRDB's async API on GRDB's own queues; writes
/// are committed (synchronous=FULL) before a call is answered, so an
/// acknowledged notification survives a crash.
public struct NotificationStore: Sendable {
    /// Shared with ``DeliveryStore`` (the deliveries are written in the
    /// notification's transaction).
    let pool: DatabasePool

    public init(path: String, metrics: MetricsRegistry? = nil) throws {
        pool = try ServiceDatabase.open(at: path, migrations: Self.migrations, metrics: metrics)
    }

    static var migrations: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: notifications") { db in
            try db.create(table: StoredNotification.databaseTableName) { table in
                table.primaryKey("id", .text)
                table.column("event_id", .text).notNull().unique()
                table.column("user_id", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("subject", .text).notNull()
                table.column("body", .text).notNull()
                table.column("created_at", .integer).notNull()
            }
            try db.create(index: "notification_by_user", on: StoredNotification.databaseTableName, columns: ["user_id", "created_at"])
            try db.create(index: "notification_by_time", on: StoredNotification.databaseTableName, columns: ["created_at"])
        }
        DeliveryStore.registerMigrations(in: &migrator)
        return migrator
    }

    /// The notification delivered for `eventID`, if any.
    public func notification(forEvent eventID: String) async throws -> Shop_Notification_V1_Notification? {
        try await pool.read { db in
            try StoredNotification.filter(StoredNotification.Columns.eventID == eventID).fetchOne(db)?.message
        }
    }

    /// Stores `notification` unless its event id is already stored; returns
    /// the stored one and whether it was created now. The check and the
    /// insert share one write transaction, and the UNIQUE index backs them.
    public func insertOnce(_ notification: Shop_Notification_V1_Notification) async throws -> (Shop_Notification_V1_Notification, created: Bool) {
        try await pool.write { db in
            if let existing = try StoredNotification.filter(StoredNotification.Columns.eventID == notification.eventID).fetchOne(db) {
                return (existing.message, false)
            }
            let row = StoredNotification(notification)
            try row.insert(db)
            return (row.message, true)
        }
    }

    /// Newest first; only `userID`'s when given. Keyset on
    /// `(created_at, rowid)`, like the order list.
    ///
    /// - Returns: the page, the key of its last notification, and whether more follow.
    public func list(userID: String?, cursor: PageCursor) async throws -> (notifications: [Shop_Notification_V1_Notification], lastKey: [Int64]?, hasMore: Bool) {
        try await pool.read { db in
            var request = StoredNotification.all()
            if let userID {
                request = request.filter(StoredNotification.Columns.userID == userID)
            }
            if let after = cursor.after, after.count == 2 {
                request = request.filter(
                    sql: "(created_at < ? OR (created_at = ? AND rowid < ?))",
                    arguments: [after[0], after[0], after[1]]
                )
            }
            let fetched = try Row.fetchAll(db, request
                .select(AllColumns(), Column.rowID.forKey("page_rowid"))
                .order(StoredNotification.Columns.createdAt.desc, Column.rowID.desc)
                .limit(cursor.size + 1, offset: cursor.skip))
            let page = fetched.prefix(cursor.size)
            let lastKey = page.last.map { [$0["created_at"] as Int64, $0["page_rowid"] as Int64] }
            return (try page.map { try StoredNotification(row: $0).message }, lastKey, fetched.count > cursor.size)
        }
    }
}
