import Foundation
import ServiceSupport
import ShopStorage

/// Fills a catalog with generated products, fast: what `shop seed` runs to
/// measure the API at a million products.
///
/// It writes the product service's database itself, through the same
/// storage layer and migrations as ``ProductStore`` (the SQLite file in the
/// data folder, or the `product` schema when the environment names a
/// PostgreSQL database): one write transaction per batch, ``rowsPerStatement``
/// rows per multi-row `INSERT`, so a million rows take seconds rather than
/// the hours a million API calls would. It may write while the service
/// runs (SQLite's WAL, or PostgreSQL's concurrent writers); the service sees
/// each batch once it commits.
public enum ProductSeeder {
    /// The categories generated products are spread over, round-robin.
    public static let categories = ["kitchen", "garden", "office", "toys", "books", "tools", "games", "music", "sports", "travel"]

    /// Rows per `INSERT`: 7 bound values each, far below both backends'
    /// limits on parameters per statement.
    static let rowsPerStatement = 100

    /// Appends `count` products to the catalog of `environment` (its data
    /// folder's `product.sqlite`, or `SHOP_DATABASE_URL`).
    ///
    /// - Parameters:
    ///   - batchSize: products per transaction.
    ///   - progress: called after each batch with the number written so far.
    /// - Throws: ``StorageError`` (UNAVAILABLE) when the PostgreSQL database
    ///   cannot be reached; ``ConfigurationError`` for a malformed setting.
    public static func seed(
        environment: ServiceEnvironment,
        count: Int,
        batchSize: Int = 10_000,
        progress: @Sendable (Int) -> Void = { _ in }
    ) async throws {
        let database = try await ServiceDatabase.open("product", migrations: ProductStore.migrations, environment: environment)
        try await seed(database, count: count, batchSize: batchSize, progress: progress)
    }

    /// Appends `count` products to the catalog in `database`, whose
    /// migrations have run.
    static func seed(
        _ database: any SQLDatabase,
        count: Int,
        batchSize: Int,
        progress: @Sendable (Int) -> Void
    ) async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var written = 0
        while written < count {
            let size = min(max(batchSize, 1), count - written)
            let first = written
            try await database.write { db in
                var index = first
                while index < first + size {
                    let rows = min(rowsPerStatement, first + size - index)
                    var values: [any SQLBindable] = []
                    values.reserveCapacity(rows * 7)
                    for row in index..<(index + rows) {
                        values += [
                            Validation.newID(), "Seeded product \(row)", "A generated product for benchmarks",
                            Int64(100 + row % 10_000), categories[row % categories.count], now, now,
                        ] as [any SQLBindable]
                    }
                    try await db.execute(
                        """
                        INSERT INTO product (id, name, description, price, category, created_at, updated_at)
                        VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", "))
                        """,
                        values
                    )
                    index += rows
                }
            }
            written += size
            progress(written)
        }
    }
}
