/// One step of a service's schema, applied once, in order, by name.
///
/// The statements are written once for both backends; `dialect` lets a step
/// vary where they differ (``SQLDialect/autoIncrementPrimaryKey``). On
/// SQLite the steps are GRDB migrations (their names are what earlier
/// versions recorded in `grdb_migrations`); on PostgreSQL they are
/// recorded in the schema's `schema_migrations` table and applied under an
/// advisory lock, so replicas starting together apply each step once.
public struct SQLMigration: Sendable {
    public let name: String
    public let statements: @Sendable (SQLDialect) -> [String]

    public init(_ name: String, _ statements: @escaping @Sendable (SQLDialect) -> [String]) {
        self.name = name
        self.statements = statements
    }
}
