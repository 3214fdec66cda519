import CoreMetrics
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import _ConnectionPoolModule
import ServiceLifecycle
import Synchronization

/// ``SQLDatabase`` on PostgreSQL through postgres-nio: a connection pool
/// (``PostgresClient``, run in the service's group), each service in its
/// own schema of a shared database (its connections' `search_path` is that
/// schema alone, so it cannot read another service's tables by accident).
///
/// Every read and write is bounded by ``Settings/timeout`` (waiting for a
/// connection included), and each statement by the server's
/// `statement_timeout`. A lost or unreachable server makes calls fail with
/// ``StorageError/Kind/unavailable`` (UNAVAILABLE); the pool reconnects by
/// itself once the server is back. Statements are sent as unnamed prepared
/// statements (parsed per execution by the server; the SQL text is
/// rewritten to `$n` placeholders once per call).
public final class PostgreSQLDatabase: SQLDatabase {
    public struct Settings: Sendable {
        /// Connections per process at most.
        public var poolSize: Int = 10
        /// The most a read or write may take, waiting for a connection included.
        public var timeout: Duration = .seconds(5)
        /// The server's limit per statement.
        public var statementTimeout: Duration = .seconds(10)
        public init() {}
    }

    public var dialect: SQLDialect { .postgres }
    /// The pool, run in the service's group. Until it runs (a factory
    /// reading at start) and after it stopped, each transaction opens a
    /// connection of its own instead: a lease from a pool that is not
    /// running would wait for ever.
    public var services: [any Service] { [PoolService(client: client, running: poolRunning)] }

    public let url: DatabaseURL
    public let schema: String
    private let client: PostgresClient
    private let poolRunning = RunningFlag()
    private let connectionConfiguration: PostgresConnection.Configuration
    private let settings: Settings
    private let statementTime: CoreMetrics.Timer?
    private let logger: Logger

    /// Connects once to apply `migrations` (under an advisory lock, so
    /// replicas starting together apply each once) and returns the
    /// database; its pool starts when ``services`` run.
    ///
    /// - Parameter schema: the service's schema, created when missing.
    /// - Throws: ``StorageError`` (unavailable) with one sentence when the
    ///   server cannot be reached or refuses the login.
    public static func open(
        url text: String,
        schema: String,
        migrations: [SQLMigration],
        settings: Settings = Settings(),
        statementTime: CoreMetrics.Timer? = nil,
        logger: Logger
    ) async throws -> PostgreSQLDatabase {
        let url = try DatabaseURL(text)
        let database = try PostgreSQLDatabase(url: url, schema: schema, settings: settings, statementTime: statementTime, logger: logger)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: database.connectionConfiguration, id: 0, logger: logger
            )
        } catch {
            throw StorageError(.unavailable, "cannot reach the PostgreSQL database \(url): \(Self.reason(error))")
        }
        do {
            try await Self.migrate(connection, schema: schema, migrations: migrations, logger: logger)
        } catch {
            try? await connection.close()
            throw Self.storageError(error, url: url)
        }
        try? await connection.close()
        return database
    }

    private init(url: DatabaseURL, schema: String, settings: Settings, statementTime: CoreMetrics.Timer?, logger: Logger) throws {
        guard schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !schema.isEmpty else {
            throw StorageError(.malformed, "a schema name is letters, digits and _ only")
        }
        self.url = url
        self.schema = schema
        self.settings = settings
        self.statementTime = statementTime
        self.logger = logger
        let tls: PostgresConnection.Configuration.TLS
        switch url.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        let startup = Self.startupParameters(schema: schema, settings: settings)
        var connection = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, tls: tls
        )
        connection.options.connectTimeout = .seconds(5)
        connection.options.additionalStartupParameters = startup
        connectionConfiguration = connection

        let clientTLS: PostgresClient.Configuration.TLS
        switch url.tls {
        case .disable: clientTLS = .disable
        case .prefer: clientTLS = .prefer(.makeClientConfiguration())
        case .require: clientTLS = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, tls: clientTLS
        )
        configuration.options.maximumConnections = settings.poolSize
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = startup
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    /// The service's schema alone on the search path, its name for the
    /// server's views, and the server-side statement limit.
    private static func startupParameters(schema: String, settings: Settings) -> [(String, String)] {
        let milliseconds = settings.statementTimeout.components.seconds * 1000
            + settings.statementTimeout.components.attoseconds / 1_000_000_000_000_000
        return [
            ("search_path", "\"\(schema)\""),
            ("application_name", "shop-\(schema)"),
            ("statement_timeout", String(milliseconds)),
            ("idle_in_transaction_session_timeout", "60000"),
        ]
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLTransaction) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN READ ONLY", body)
    }

    @discardableResult

    public func write<T: Sendable>(_ body: @Sendable (any SQLTransaction) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN", body)
    }

    private func transaction<T: Sendable>(begin: String, _ body: @Sendable (any SQLTransaction) async throws -> T) async throws -> T {
        let (client, logger, statementTime, timeout, url) = (self.client, self.logger, self.statementTime, settings.timeout, self.url)
        let statementLimit = settings.statementTimeout + .seconds(5)
        do {
            return try await withoutActuallyEscaping(body) { body in
                try await withThrowingTaskGroup(of: T?.self) { group in
                    let pooled = poolRunning.value
                    let configuration = connectionConfiguration
                    group.addTask { () -> T? in
                        let run: @Sendable (PostgresConnection) async throws -> T = { connection in
                            let transaction = Transaction(connection: connection, logger: logger, statementTime: statementTime, statementLimit: statementLimit)
                            try await transaction.execute(begin)
                            do {
                                let result = try await body(transaction)
                                try await transaction.execute("COMMIT")
                                return result
                            } catch {
                                try? await transaction.execute("ROLLBACK")
                                throw error
                            }
                        }
                        if pooled {
                            return try await client.withConnection { connection -> T in try await run(connection) }
                        }
                        let connection = try await PostgresConnection.connect(configuration: configuration, id: 2, logger: logger)
                        do {
                            let result = try await run(connection)
                            try? await connection.close()
                            return result
                        } catch {
                            try? await connection.close()
                            throw error
                        }
                    }
                    group.addTask { () -> T? in
                        try await Task.sleep(for: timeout)
                        return nil
                    }
                    defer { group.cancelAll() }
                    guard let first = try await group.next(), let result = first else {
                        throw StorageError(.unavailable, "the database \(url) did not answer within \(timeout)")
                    }
                    return result
                }
            }
        } catch {
            throw Self.storageError(error, url: url)
        }
    }

    public func notifications(channel: String) -> AsyncStream<String?>? {
        let (configuration, logger) = (connectionConfiguration, logger)
        return AsyncStream { continuation in
            let task = Task {
                // Owned by the stream: cancelled when its consumer stops.
                var failures = 0
                while !Task.isCancelled {
                    do {
                        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
                        failures = 0
                        do {
                            try await connection.listen(on: channel) { notifications in
                                // Listening: whatever was sent while not is unknown.
                                continuation.yield(nil)
                                for try await notification in notifications {
                                    continuation.yield(notification.payload)
                                }
                            }
                        } catch {
                            logger.warning("lost the notification connection; reconnecting", metadata: ["error": "\(Self.reason(error))"])
                        }
                        try? await connection.close()
                    } catch {
                        failures += 1
                    }
                    try? await Task.sleep(for: .milliseconds(min(100 * (1 << min(failures, 5)), 2_000)))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Statements

    private struct Transaction: SQLTransaction {
        let connection: PostgresConnection
        let logger: Logger
        let statementTime: CoreMetrics.Timer?
        /// The server's statement_timeout and a margin: longer means the
        /// server or the connection is lost.
        var statementLimit: Duration = .seconds(15)
        var dialect: SQLDialect { .postgres }

        @discardableResult

        func execute(_ sql: String, _ arguments: [any SQLBindable]) async throws -> Int {
            var changed = 0
            _ = try await run(sql, arguments) { metadata in changed = metadata.rows ?? 0 }
            return changed
        }

        func query(_ sql: String, _ arguments: [any SQLBindable]) async throws -> [SQLRow] {
            try await run(sql, arguments) { _ in }
        }

        func notify(channel: String, payload: String) async throws {
            try await execute("SELECT pg_notify(?, ?)", [channel, payload])
        }

        private func run(
            _ sql: String, _ arguments: [any SQLBindable], metadata: (PostgresQueryMetadata) -> Void
        ) async throws -> [SQLRow] {
            var bindings = PostgresBindings(capacity: arguments.count)
            for argument in arguments {
                switch argument.sqlValue {
                case .null: bindings.appendNull()
                case .integer(let integer): bindings.append(integer)
                case .real(let real): bindings.append(real)
                case .text(let text): bindings.append(text)
                case .bool(let bool): bindings.append(bool)
                }
            }
            let start = ContinuousClock.now
            let query = PostgresQuery(unsafeSQL: SQLDialect.postgres.placeholders(sql), binds: bindings)
            // The collecting form: it also reports the command tag (rows changed).
            let answer: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
            let collected = try await bounded(answer, within: sql == "ROLLBACK" ? Self.rollbackLimit : statementLimit)
            metadata(collected.metadata)
            let result = try collected.rows.map(Self.row)
            if let statementTime {
                let elapsed = ContinuousClock.now - start
                statementTime.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            }
            return result
        }

        /// How long a ROLLBACK may take before its connection is closed
        /// instead (the server rolls back a closed session's transaction).
        static let rollbackLimit: Duration = .seconds(2)

        /// Waits for a statement's answer, but never for ever: postgres-nio's
        /// future ends neither on cancellation nor, on a connection that
        /// has closed meanwhile, at all (a statement sent on a closed
        /// connection was seen to wait for ever, keeping its service from
        /// stopping). So the wait ends with the answer, with cancellation
        /// (CancellationError) or after `limit` (UNAVAILABLE), whichever
        /// comes first; the last two close the connection, which the pool
        /// then replaces (the server rolls back a closed session's
        /// transaction).
        private func bounded<R: Sendable>(_ answer: EventLoopFuture<R>, within limit: Duration) async throws -> R {
            let connection = self.connection
            let outcome = FirstOutcome<R>()
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<R, any Error>) in
                    outcome.install(continuation)
                    if connection.isClosed {
                        outcome.finish(.failure(StorageError(.unavailable, "the database connection has closed")))
                        return
                    }
                    let timer = connection.eventLoop.scheduleTask(in: TimeAmount(limit)) {
                        outcome.finish(.failure(StorageError(.unavailable, "the database did not answer a statement within \(limit)")))
                        let closing: EventLoopFuture<Void> = connection.close()
                        _ = closing
                    }
                    answer.whenComplete { result in
                        timer.cancel()
                        outcome.finish(result)
                    }
                }
            } onCancel: {
                outcome.finish(.failure(CancellationError()))
                let closing: EventLoopFuture<Void> = connection.close()
                _ = closing
            }
        }

        private static func row(_ row: PostgresRow) throws -> SQLRow {
            var values: [String: SQLValue] = [:]
            for cell in row {
                guard cell.bytes != nil else {
                    values[cell.columnName] = .null
                    continue
                }
                switch cell.dataType {
                case .int8: values[cell.columnName] = .integer(try cell.decode(Int64.self))
                case .int4: values[cell.columnName] = .integer(Int64(try cell.decode(Int32.self)))
                case .int2: values[cell.columnName] = .integer(Int64(try cell.decode(Int16.self)))
                case .bool: values[cell.columnName] = .bool(try cell.decode(Bool.self))
                case .float8: values[cell.columnName] = .real(try cell.decode(Double.self))
                case .float4: values[cell.columnName] = .real(Double(try cell.decode(Float.self)))
                case .void: values[cell.columnName] = .null
                default: values[cell.columnName] = .text(try cell.decode(String.self))
                }
            }
            return SQLRow(values)
        }
    }

    // MARK: Migrations

    private static func migrate(_ connection: PostgresConnection, schema: String, migrations: [SQLMigration], logger: Logger) async throws {
        let transaction = Transaction(connection: connection, logger: logger, statementTime: nil)
        try await transaction.execute("BEGIN")
        do {
            // One migrating replica at a time per schema; the others wait,
            // then find the steps recorded.
            try await transaction.execute("SELECT pg_advisory_xact_lock(hashtext(?))", ["shop.migrations.\(schema)"])
            try await transaction.execute("CREATE SCHEMA IF NOT EXISTS \"\(schema)\"")
            try await transaction.execute("""
                CREATE TABLE IF NOT EXISTS "\(schema)".schema_migrations (
                    name TEXT PRIMARY KEY,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """)
            let applied = Set(try await transaction.query("SELECT name FROM \"\(schema)\".schema_migrations", []).map { try $0.string("name") })
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.statements(.postgres) {
                    try await transaction.execute(statement)
                }
                try await transaction.execute("INSERT INTO \"\(schema)\".schema_migrations (name) VALUES (?)", [migration.name])
            }
            try await transaction.execute("COMMIT")
        } catch {
            try? await transaction.execute("ROLLBACK")
            throw error
        }
    }

    // MARK: Errors

    /// postgres-nio's errors as ``StorageError``s: connection trouble is
    /// UNAVAILABLE, a unique violation names its constraint, serialization
    /// failures and deadlocks are conflicts; errors the stores threw
    /// themselves pass unchanged.
    static func storageError(_ error: any Error, url: DatabaseURL) -> any Error {
        if error is StorageError { return error }
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? state
                switch state {
                case "23505":
                    return StorageError(.uniqueViolation, "a unique constraint refused the write", constraint: error.serverInfo?[.constraintName])
                case "40001", "40P01":
                    return StorageError(.conflict, "the write conflicted with another; try again")
                case "57014":
                    return StorageError(.unavailable, "the database \(url) took too long: \(message)")
                case _ where state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53"):
                    return StorageError(.unavailable, "the database \(url) is unavailable: \(message)")
                case "28P01", "28000", "3D000":
                    return StorageError(.unavailable, "the database \(url) refused the connection: \(message)")
                default:
                    return StorageError(.other, "database error \(state): \(message)")
                }
            }
            return StorageError(.unavailable, "the database \(url) is unavailable: \(reason(error))")
        }
        if error is ConnectionPoolError || error is IOError || error is ChannelError {
            return StorageError(.unavailable, "the database \(url) is unavailable: \(reason(error))")
        }
        return error
    }

    /// A short human reason for a connection failure.
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}

/// Runs the pool and says whether it runs, so transactions know whether a
/// lease can be served.
private struct PoolService: Service {
    let client: PostgresClient
    let running: RunningFlag

    func run() async throws {
        running.set(true)
        defer { running.set(false) }
        await client.run()
    }
}

private final class RunningFlag: Sendable {
    private let state = Mutex(false)
    var value: Bool { state.withLock { $0 } }
    func set(_ value: Bool) { state.withLock { $0 = value } }
}

/// The first of several outcomes of one wait, handed to its continuation
/// once; an outcome before the continuation is installed is kept for it.
private final class FirstOutcome<R: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<R, any Error>?
        var early: Result<R, any Error>?
        var done = false
    }

    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<R, any Error>) {
        let early = state.withLock { state -> Result<R, any Error>? in
            if let early = state.early {
                state.early = nil
                state.done = true
                return early
            }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func finish(_ result: Result<R, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<R, any Error>? in
            guard !state.done else { return nil }
            guard let continuation = state.continuation else {
                if state.early == nil { state.early = result }
                return nil
            }
            state.continuation = nil
            state.done = true
            return continuation
        }
        continuation?.resume(with: result)
    }
}
