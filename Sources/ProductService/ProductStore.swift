import FrameRPC
import ServiceSupport
import ShopStorage

/// The catalog's storage: one table, in its own SQLite file or in the
/// `product` schema of a shared PostgreSQL database, every value a bound
/// argument.
///
/// `seq` (an ascending surrogate key) gives the creation order that
/// listings follow; `id` is the public UUID. Each write is one transaction
/// that has committed before the method returns, so an acknowledged write
/// survives a crash.
struct ProductStore: Sendable {
    private let database: any SQLDatabase

    init(_ database: any SQLDatabase) {
        self.database = database
    }

    static let migrations: [SQLMigration] = [
        SQLMigration("v1: products") { dialect in
            [
                """
                CREATE TABLE product (
                    seq \(dialect.autoIncrementPrimaryKey),
                    id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    price BIGINT NOT NULL CHECK (price >= 0),
                    category TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX product_by_category ON product (category, seq)",
            ]
        },
    ]

    private static let columns = "id, name, description, price, category, created_at, updated_at"

    /// Stores a new product.
    func insert(_ product: ProductRecord) async throws {
        try await database.write { db in
            try await db.execute(
                "INSERT INTO product (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    product.id, product.name, product.description, product.price, product.category,
                    product.createdAtMilliseconds, product.updatedAtMilliseconds,
                ]
            )
        }
    }

    /// The product with `id`, if any.
    func product(id: String) async throws -> ProductRecord? {
        try await database.read { db in
            try await db.queryOne("SELECT \(Self.columns) FROM product WHERE id = ?", [id]).map(Self.record)
        }
    }

    /// The products among `ids` that exist, by id, read in one statement.
    func products(ids: [String]) async throws -> [String: ProductRecord] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in
            // One bound placeholder per id: `IN (?, ?, ...)`.
            let found = try await db.query(
                "SELECT \(Self.columns) FROM product WHERE id IN (\(Self.placeholders(ids.count)))", ids
            ).map(Self.record)
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
        try await database.read { db in
            var conditions = ["seq > ?"]
            var arguments: [any SQLBindable] = [cursor.after?.first ?? 0]
            if let category {
                conditions.append("category = ?")
                arguments.append(category)
            }
            arguments += [cursor.size + 1, cursor.skip]
            let rows = try await db.query(
                "SELECT seq, \(Self.columns) FROM product WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq LIMIT ? OFFSET ?",
                arguments
            )
            let page = rows.prefix(cursor.size)
            return (
                try page.map(Self.record),
                try page.last.map { try $0.int64("seq") },
                rows.count > cursor.size
            )
        }
    }

    /// Reads the product with `id`, lets `change` edit it and writes it back,
    /// all in one write transaction, the row locked on PostgreSQL (no lost
    /// update between read and write, whichever replica writes).
    /// `change` returns whether anything changed; if not, nothing is written.
    ///
    /// - Returns: the product as stored afterwards, or `nil` if there is none.
    func update(id: String, _ change: @escaping @Sendable (inout ProductRecord) -> Bool) async throws -> ProductRecord? {
        try await database.write { db in
            guard var product = try await db.queryOne(
                "SELECT \(Self.columns) FROM product WHERE id = ?\(db.dialect.forUpdate)", [id]
            ).map(Self.record) else { return nil }
            guard change(&product) else { return product }
            try await db.execute(
                """
                UPDATE product SET name = ?, description = ?, price = ?, category = ?, updated_at = ?
                WHERE id = ?
                """,
                [product.name, product.description, product.price, product.category, product.updatedAtMilliseconds, id]
            )
            return product
        }
    }

    /// Deletes the product with `id`; whether there was one.
    func delete(id: String) async throws -> Bool {
        try await database.write { db in
            try await db.execute("DELETE FROM product WHERE id = ?", [id]) > 0
        }
    }

    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    private static func record(_ row: SQLRow) throws -> ProductRecord {
        ProductRecord(
            id: try row.string("id"),
            name: try row.string("name"),
            description: try row.string("description"),
            price: try row.int64("price"),
            category: try row.string("category"),
            createdAtMilliseconds: try row.int64("created_at"),
            updatedAtMilliseconds: try row.int64("updated_at")
        )
    }
}
