import FrameRPC
import GRDB
import ServiceSupport

/// The user service's storage: the `users` table in its own SQLite file.
///
/// Every statement is built by GRDB from records and column expressions, so
/// values always travel as bound parameters. Every access is an async
/// `read`/`write`, run on GRDB's queues; a write has committed (with
/// `synchronous = FULL`) before it returns, so an answered create survives a
/// crash.
struct UserStore: Sendable {
    private let database: DatabasePool

    init(_ database: DatabasePool) {
        self.database = database
    }

    /// The schema, step by step. Applied before the first call is served.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: users") { db in
            try db.create(table: UserRecord.databaseTableName) { table in
                table.autoIncrementedPrimaryKey(UserRecord.CodingKeys.seq.rawValue)
                table.column(UserRecord.CodingKeys.id.rawValue, .text).notNull().unique()
                // Stored lower-case: the unique index is what makes emails
                // unique case-insensitively, also between concurrent creates.
                table.column(UserRecord.CodingKeys.email.rawValue, .text).notNull().unique()
                table.column(UserRecord.CodingKeys.fullName.rawValue, .text).notNull()
                table.column(UserRecord.CodingKeys.passwordHash.rawValue, .text).notNull()
                table.column(UserRecord.CodingKeys.isActive.rawValue, .boolean).notNull()
                table.column(UserRecord.CodingKeys.role.rawValue, .text).notNull()
                    .check { [UserRole.user.rawValue, UserRole.admin.rawValue].contains($0) }
                table.column(UserRecord.CodingKeys.createdAt.rawValue, .integer).notNull()
            }
        }
        migrator.registerMigration("v2: token versions") { db in
            // Existing users start at version 0; tokens issued before this
            // migration carry no version and are refused (their holders log in again).
            try db.alter(table: UserRecord.databaseTableName) { table in
                table.add(column: UserRecord.CodingKeys.tokenVersion.rawValue, .integer).notNull().defaults(to: 0)
            }
        }
        return migrator
    }

    /// Stores a new user. ALREADY_EXISTS when the email is taken.
    func insert(_ record: UserRecord) async throws -> UserRecord {
        try await mappingConflicts {
            try await database.write { db in
                var record = record
                try record.insert(db)
                return record
            }
        }
    }

    func user(id: String) async throws -> UserRecord? {
        try await database.read { db in
            try UserRecord.filter(UserRecord.CodingKeys.id == id).fetchOne(db)
        }
    }

    /// The user with this normalized email.
    func user(email: String) async throws -> UserRecord? {
        try await database.read { db in
            try UserRecord.filter(UserRecord.CodingKeys.email == email).fetchOne(db)
        }
    }

    /// One page of users in the order they were created: keyset on `seq`
    /// (`seq > last`), so a deep page costs what the first does.
    ///
    /// - Returns: the page and whether more users follow (one more row
    ///   than the page is read).
    func users(_ cursor: PageCursor) async throws -> (users: [UserRecord], hasMore: Bool) {
        try await database.read { db in
            let seq = Column(UserRecord.CodingKeys.seq)
            let records = try UserRecord
                .filter(seq > (cursor.after?.first ?? 0))
                .order(seq)
                .limit(cursor.size + 1, offset: cursor.skip)
                .fetchAll(db)
            return (Array(records.prefix(cursor.size)), records.count > cursor.size)
        }
    }

    /// Applies `change` to the user with `id` in one transaction and returns
    /// the result; `nil` if there is no such user. ALREADY_EXISTS when the
    /// change takes another user's email.
    func update(id: String, _ change: @escaping @Sendable (inout UserRecord) -> Void) async throws -> UserRecord? {
        try await mappingConflicts {
            try await database.write { db in
                guard var record = try UserRecord.filter(UserRecord.CodingKeys.id == id).fetchOne(db) else {
                    return nil
                }
                let before = record
                change(&record)
                if record != before {
                    try record.update(db)
                }
                return record
            }
        }
    }

    /// Turns a unique-index violation into ALREADY_EXISTS (only `email` and
    /// the random `id` are unique; an id collision is not a caller's mistake).
    private func mappingConflicts<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError
            where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            && (error.message ?? "").contains("\(UserRecord.databaseTableName).\(UserRecord.CodingKeys.email.rawValue)") {
            throw RPCError(code: .alreadyExists, message: "email: is already registered")
        }
    }
}
