import FrameRPC
import GRDB
import ServiceSupport
import ShopObservability

/// The catalog's storage: one SQLite table, reached only through GRDB's
/// async reads and writes with bound arguments.
///
/// `seq` (an `INTEGER PRIMARY KEY`, so a stable rowid) gives the creation
/// order that listings follow; `id` is the public UUID. Each write is one
/// transaction that has committed before the method returns, so an
/// acknowledged write survives a crash.
struct ProductStore: Sendable {
    private let pool: DatabasePool

    init(path: String, metrics: MetricsRegistry? = nil) throws {
        pool = try ServiceDatabase.open(at: path, migrations: Self.migrations, metrics: metrics)
    }

    static var migrations: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: products") { db in
            try db.execute(sql: """
                CREATE TABLE product (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    price INTEGER NOT NULL CHECK (price >= 0),
                    category TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX product_by_category ON product (category, seq);
                """)
        }
        return migrator
    }

    private static let columns = "id, name, description, price, category, created_at, updated_at"

    /// Stores a new product.
    func insert(_ product: ProductRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO product (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    product.id, product.name, product.description, product.price, product.category,
                    product.createdAtMilliseconds, product.updatedAtMilliseconds,
                ]
            )
        }
    }

    /// The product with `id`, if any.
    func product(id: String) async throws -> ProductRecord? {
        try await pool.read { db in
            try ProductRecord.fetchOne(db, sql: "SELECT \(Self.columns) FROM product WHERE id = ?", arguments: [id])
        }
    }

    /// The products among `ids` that exist, by id. One read transaction, so
    /// the answer is a consistent snapshot.
    func products(ids: [String]) async throws -> [String: ProductRecord] {
        guard !ids.isEmpty else { return [:] }
        return try await pool.read { db in
            // One bound placeholder per id: `IN (?, ?, ...)`.
            let found = try ProductRecord.fetchAll(
                db,
                sql: "SELECT \(Self.columns) FROM product WHERE id IN (\(databaseQuestionMarks(count: ids.count)))",
                arguments: StatementArguments(ids)
            )
            return Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// One page of products in creation order, optionally in one category:
    /// keyset on `seq` (`seq > last`, by the primary key or the
    /// `(category, seq)` index), so a page deep in the list costs what the
    /// first does. `skip` (first page only) still passes over rows.
    ///
    /// - Returns: the page, the `seq` of its last product, and whether
    ///   more products follow (one more row than the page is read).
    func list(cursor: PageCursor, category: String?) async throws -> (products: [ProductRecord], lastSeq: Int64?, hasMore: Bool) {
        try await pool.read { db in
            var conditions = ["seq > ?"]
            var arguments: StatementArguments = [cursor.after?.first ?? 0]
            if let category {
                conditions.append("category = ?")
                arguments += [category]
            }
            arguments += [cursor.size + 1, cursor.skip]
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT seq, \(Self.columns) FROM product WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq LIMIT ? OFFSET ?",
                arguments: arguments
            )
            let page = rows.prefix(cursor.size)
            return (
                try page.map { try ProductRecord(row: $0) },
                page.last.map { $0["seq"] as Int64 },
                rows.count > cursor.size
            )
        }
    }

    /// Reads the product with `id`, lets `change` edit it and writes it back,
    /// all in one write transaction (no lost update between read and write).
    /// `change` returns whether anything changed; if not, nothing is written.
    ///
    /// - Returns: the product as stored afterwards, or `nil` if there is none.
    func update(id: String, _ change: @escaping @Sendable (inout ProductRecord) -> Bool) async throws -> ProductRecord? {
        try await pool.write { db in
            guard var product = try ProductRecord.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM product WHERE id = ?", arguments: [id]
            ) else { return nil }
            guard change(&product) else { return product }
            try db.execute(
                sql: """
                    UPDATE product SET name = ?, description = ?, price = ?, category = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [product.name, product.description, product.price, product.category, product.updatedAtMilliseconds, id]
            )
            return product
        }
    }

    /// Deletes the product with `id`; whether there was one.
    func delete(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM product WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }
}
