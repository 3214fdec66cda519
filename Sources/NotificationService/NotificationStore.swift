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
    private let database: any SQLDatabase

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
    ]

    private static let columns = "id, event_id, user_id, kind, subject, body, created_at"

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
            let inserted = try await db.execute(
                """
                INSERT INTO notification (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (event_id) DO NOTHING
                """,
                [row.id, row.eventID, row.userID, row.kind, row.subject, row.body, row.createdAt]
            )
            if inserted == 1 { return (row.message, true) }
            guard let existing = try await db.queryOne(
                "SELECT \(Self.columns) FROM notification WHERE event_id = ?", [row.eventID]
            ) else {
                throw StorageError(.other, "notification for event \(row.eventID) neither inserted nor found")
            }
            return (try Self.stored(existing).message, false)
        }
    }

    /// Newest first; only `userID`'s when given.
    public func list(userID: String?, page: Page) async throws -> [Shop_Notification_V1_Notification] {
        try await database.read { db in
            // `id` breaks ties between notifications of the same microsecond.
            let rows: [SQLRow]
            if let userID {
                rows = try await db.query(
                    "SELECT \(Self.columns) FROM notification WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                    [userID, page.limit, page.skip]
                )
            } else {
                rows = try await db.query(
                    "SELECT \(Self.columns) FROM notification ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                    [page.limit, page.skip]
                )
            }
            return try rows.map { try Self.stored($0).message }
        }
    }

    private static func stored(_ row: SQLRow) throws -> StoredNotification {
        StoredNotification(
            id: try row.string("id"), eventID: try row.string("event_id"), userID: try row.string("user_id"),
            kind: try row.string("kind"), subject: try row.string("subject"), body: try row.string("body"),
            createdAt: try row.int64("created_at")
        )
    }
}
