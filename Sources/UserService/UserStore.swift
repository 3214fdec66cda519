import FrameRPC
import ServiceSupport
import ShopStorage

/// The user service's storage: the `users` table, in its own SQLite file
/// or in the `user` schema of a shared PostgreSQL database.
///
/// Every value travels as a bound parameter. A write has committed before
/// it returns (SQLite with `synchronous = FULL`), so an answered create
/// survives a crash. Email uniqueness, also between concurrent creates on
/// different replicas, is the UNIQUE index's decision.
struct UserStore: Sendable {
    private let database: any SQLDatabase

    init(_ database: any SQLDatabase) {
        self.database = database
    }

    /// The schema, step by step. Applied before the first call is served.
    /// (The names are those earlier versions recorded in SQLite files.)
    static let migrations: [SQLMigration] = [
        SQLMigration("v1: users") { dialect in
            [
                // email is stored lower-case: the unique index is what
                // makes emails unique case-insensitively.
                """
                CREATE TABLE users (
                    seq \(dialect.autoIncrementPrimaryKey),
                    id TEXT NOT NULL UNIQUE,
                    email TEXT NOT NULL UNIQUE,
                    full_name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    is_active BOOLEAN NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
                    created_at BIGINT NOT NULL
                )
                """,
            ]
        },
        // Existing users start at version 0; tokens issued before this
        // migration carry no version and are refused (their holders log in again).
        SQLMigration("v2: token versions") { _ in
            ["ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0"]
        },
    ]

    private static let columns = "seq, id, email, full_name, password_hash, is_active, role, created_at, token_version"

    /// Stores a new user. ALREADY_EXISTS when the email is taken.
    func insert(_ record: UserRecord) async throws -> UserRecord {
        try await mappingConflicts {
            try await database.write { db in
                let row = try await db.queryOne(
                    """
                    INSERT INTO users (id, email, full_name, password_hash, is_active, role, created_at, token_version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq
                    """,
                    [record.id, record.email, record.fullName, record.passwordHash, record.isActive,
                     record.role.rawValue, record.createdAt, record.tokenVersion]
                )
                var record = record
                record.seq = try row?.int64("seq")
                return record
            }
        }
    }

    func user(id: String) async throws -> UserRecord? {
        try await database.read { db in
            try await db.queryOne("SELECT \(Self.columns) FROM users WHERE id = ?", [id]).map(Self.record)
        }
    }

    /// The user with this normalized email.
    func user(email: String) async throws -> UserRecord? {
        try await database.read { db in
            try await db.queryOne("SELECT \(Self.columns) FROM users WHERE email = ?", [email]).map(Self.record)
        }
    }

    /// One page of users in the order they were created: keyset on `seq`
    /// (`seq > last`), so a deep page costs what the first does.
    ///
    /// - Returns: the page and whether more users follow (one more row
    ///   than the page is read).
    func users(_ cursor: PageCursor) async throws -> (users: [UserRecord], hasMore: Bool) {
        try await database.read { db in
            let records = try await db.query(
                "SELECT \(Self.columns) FROM users WHERE seq > ? ORDER BY seq LIMIT ? OFFSET ?",
                [cursor.after?.first ?? 0, cursor.size + 1, cursor.skip]
            ).map(Self.record)
            return (Array(records.prefix(cursor.size)), records.count > cursor.size)
        }
    }

    /// Applies `change` to the user with `id` in one transaction (the row
    /// locked on PostgreSQL, so concurrent changes on other replicas wait
    /// and none is lost) and returns the result; `nil` if there is no such
    /// user. ALREADY_EXISTS when the change takes another user's email.
    func update(id: String, _ change: @escaping @Sendable (inout UserRecord) -> Void) async throws -> UserRecord? {
        try await mappingConflicts {
            try await database.write { db in
                guard var record = try await db.queryOne(
                    "SELECT \(Self.columns) FROM users WHERE id = ?\(db.dialect.forUpdate)", [id]
                ).map(Self.record) else {
                    return nil
                }
                let before = record
                change(&record)
                if record != before {
                    try await db.execute(
                        """
                        UPDATE users SET email = ?, full_name = ?, password_hash = ?, is_active = ?, role = ?,
                            created_at = ?, token_version = ?
                        WHERE id = ?
                        """,
                        [record.email, record.fullName, record.passwordHash, record.isActive, record.role.rawValue,
                         record.createdAt, record.tokenVersion, id]
                    )
                }
                return record
            }
        }
    }

    private static func record(_ row: SQLRow) throws -> UserRecord {
        guard let role = UserRole(rawValue: try row.string("role")) else {
            throw RPCError(code: .internal, message: "a stored user has an unknown role")
        }
        return UserRecord(
            seq: try row.optionalInt64("seq"),
            id: try row.string("id"),
            email: try row.string("email"),
            fullName: try row.string("full_name"),
            passwordHash: try row.string("password_hash"),
            isActive: try row.bool("is_active"),
            role: role,
            createdAt: try row.int64("created_at"),
            tokenVersion: try row.int64("token_version")
        )
    }

    /// Turns a unique-index violation of `email` into ALREADY_EXISTS (only
    /// `email` and the random `id` are unique; an id collision is not a
    /// caller's mistake).
    private func mappingConflicts<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StorageError where error.violatesUnique(table: "users", column: "email") {
            throw RPCError(code: .alreadyExists, message: "email: is already registered")
        }
    }
}
