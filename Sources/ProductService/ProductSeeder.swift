import Foundation
import GRDB
import ServiceSupport

/// Fills a catalog with generated products, fast: what `shop seed` runs to
/// measure the API at a million products.
///
/// It writes the product service's SQLite file itself (the same migrations
/// as ``ProductStore``), one transaction and one prepared statement per
/// batch, so a million rows take seconds rather than the hours a million
/// API calls would. SQLite's WAL mode lets it write while the service
/// runs; the service sees the rows as they commit.
public enum ProductSeeder {
    /// The categories generated products are spread over, round-robin.
    public static let categories = ["kitchen", "garden", "office", "toys", "books", "tools", "games", "music", "sports", "travel"]

    /// Appends `count` products to the catalog at `path`.
    ///
    /// - Parameters:
    ///   - batchSize: products per transaction.
    ///   - progress: called after each batch with the number written so far.
    public static func seed(
        path: String,
        count: Int,
        batchSize: Int = 10_000,
        progress: @Sendable (Int) -> Void = { _ in }
    ) async throws {
        let pool = try ServiceDatabase.open(at: path, migrations: ProductStore.migrations)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var written = 0
        while written < count {
            let size = min(batchSize, count - written)
            let first = written
            try await pool.write { db in
                let statement = try db.makeStatement(sql: """
                    INSERT INTO product (id, name, description, price, category, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                for index in first..<(first + size) {
                    try statement.execute(arguments: [
                        Validation.newID(), "Seeded product \(index)", "A generated product for benchmarks",
                        Int64(100 + index % 10_000), categories[index % categories.count], now, now,
                    ])
                }
            }
            written += size
            progress(written)
        }
    }
}
