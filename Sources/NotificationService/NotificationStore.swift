import ServiceSupport
import ShopAPI
import ShopStorage

/// The notification service's database: its notifications, one per event
/// id, in its own SQLite file or in the `notification` schema of a shared
/// PostgreSQL database.
///
/// Writes have committed before a call is answered, so an acknowledged
/// notification survives a crash. At most one notification per event is the
/// UNIQUE index's decision, whichever replica delivers.
public struct NotificationStore: Sendable {
    /// Shared with ``DeliveryStore`` (the deliveries are written in the
    /// notification's transaction: ``insertOnce(_:_:)``).
    let database: any SQLDatabase

    public init(_ database: any SQLDatabase) {
        self.database = database
    }

    static let migrations: [SQLMigration] = [
        SQLMigration("v1: notifications") { _ in
            [
                """
                CREATE TABLE notification (
                    id TEXT PRIMARY KEY NOT NULL,
                    event_id TEXT NOT NULL UNIQUE,
                    user_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    body TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX notification_by_user ON notification (user_id, created_at)",
                "CREATE INDEX notification_by_time ON notification (created_at)",
            ]
        },
    ] + DeliveryStore.migrations

    static let columns = "id, event_id, user_id, kind, subject, body, created_at"

    /// The notification delivered for `eventID`, if any.
    public func notification(forEvent eventID: String) async throws -> Shop_Notification_V1_Notification? {
        try await database.read { db in
            try await db.queryOne("SELECT \(Self.columns) FROM notification WHERE event_id = ?", [eventID])
                .map { try Self.stored($0).message }
        }
    }

    /// Stores `notification` unless its event id is already stored; returns
    /// the stored one and whether it was created now. One conditional
    /// insert (`ON CONFLICT DO NOTHING`) decides, so concurrent deliveries
    /// of one event on several replicas store it once.
    public func insertOnce(_ notification: Shop_Notification_V1_Notification) async throws -> (Shop_Notification_V1_Notification, created: Bool) {
        let row = StoredNotification(notification)
        return try await database.write { db in
            let (stored, created) = try await Self.insertOnce(row, db)
            return (stored.message, created)
        }
    }

    /// ``insertOnce(_:)`` inside the caller's write transaction, so that
    /// what belongs to the notification (its deliveries) commits with it
    /// or not at all. Returns the stored row: `row` when created now, else
    /// the one stored earlier for the same event.
    static func insertOnce(_ row: StoredNotification, _ db: any SQLTransaction) async throws -> (StoredNotification, created: Bool) {
        let inserted = try await db.execute(
            """
            INSERT INTO notification (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (event_id) DO NOTHING
            """,
            [row.id, row.eventID, row.userID, row.kind, row.subject, row.body, row.createdAt]
        )
        if inserted == 1 { return (row, true) }
        guard let existing = try await db.queryOne(
            "SELECT \(columns) FROM notification WHERE event_id = ?", [row.eventID]
        ) else {
            throw StorageError(.other, "notification for event \(row.eventID) neither inserted nor found")
        }
        return (try stored(existing), false)
    }

    /// Newest first; only `userID`'s when given. Keyset on
    /// `(created_at, id)` like the order list (columns both backends have;
    /// `id` breaks ties between notifications of the same microsecond).
    ///
    /// - Returns: the page, the key of its last notification, and whether more follow.
    public func list(userID: String?, cursor: PageCursor) async throws -> (notifications: [Shop_Notification_V1_Notification], lastKey: (createdAt: Int64, id: String)?, hasMore: Bool) {
        try await database.read { db in
            let query = cursor.newestFirstQuery(columns: Self.columns, table: "notification", userID: userID)
            let fetched = try await db.query(query.sql, query.arguments).map(Self.stored)
            let page = fetched.prefix(cursor.size)
            let lastKey = page.last.map { (createdAt: $0.createdAt, id: $0.id) }
            return (page.map(\.message), lastKey, fetched.count > cursor.size)
        }
    }

    static func stored(_ row: SQLRow) throws -> StoredNotification {
        StoredNotification(
            id: try row.string("id"), eventID: try row.string("event_id"), userID: try row.string("user_id"),
            kind: try row.string("kind"), subject: try row.string("subject"), body: try row.string("body"),
            createdAt: try row.int64("created_at")
        )
    }
}
