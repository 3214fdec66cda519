import FrameRPC
import Foundation
import GRDB
import ServiceSupport
import ShopObservability

/// Stock levels and reservations in SQLite, reached only through GRDB's
/// async reads and writes with bound arguments.
///
/// Every operation that moves units is ONE write transaction: it reads the
/// reservation, checks it and changes both the reservation and the stock
/// rows before it commits. SQLite runs one write transaction at a time, so
/// concurrent reservations for the last units cannot both see them free;
/// a rule broken half-way throws, which rolls back everything the
/// transaction did (all items or none). A `CHECK` on every count is a last
/// line of defence: no count can ever go below zero.
struct InventoryStore: Sendable {
    private let pool: DatabasePool

    init(path: String, metrics: MetricsRegistry? = nil) throws {
        pool = try ServiceDatabase.open(at: path, migrations: Self.migrations, metrics: metrics)
    }

    static var migrations: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: stock and reservations") { db in
            try db.execute(sql: """
                CREATE TABLE stock (
                    product_id TEXT PRIMARY KEY NOT NULL,
                    available INTEGER NOT NULL CHECK (available >= 0),
                    reserved INTEGER NOT NULL CHECK (reserved >= 0),
                    committed INTEGER NOT NULL CHECK (committed >= 0)
                );
                CREATE TABLE reservation (
                    order_id TEXT PRIMARY KEY NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('reserved', 'committed', 'released')),
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE INDEX reservation_expiry ON reservation (state, expires_at);
                CREATE TABLE reservation_item (
                    order_id TEXT NOT NULL REFERENCES reservation (order_id),
                    position INTEGER NOT NULL,
                    product_id TEXT NOT NULL,
                    quantity INTEGER NOT NULL CHECK (quantity >= 1),
                    PRIMARY KEY (order_id, position),
                    UNIQUE (order_id, product_id)
                );
                """)
        }
        // Why a reservation was released: a late commit may take the units
        // of an expired one again, never those of one released on request
        // (its order is gone). Rows released before this are treated as
        // released on request, the safe side.
        migrator.registerMigration("v2: release cause") { db in
            try db.execute(sql: """
                ALTER TABLE reservation ADD COLUMN released_by TEXT
                    CHECK (released_by IS NULL OR released_by IN ('expiry', 'request'))
                """)
        }
        return migrator
    }

    // MARK: Stock

    /// The product's counts, or `nil` when it has no stock record.
    func stock(productID: String) async throws -> StockLevel? {
        try await pool.read { db in try Self.stock(db, productID) }
    }

    /// Sets the product's `available` count, creating its record if needed.
    /// Reserved and committed units are left as they are.
    func setStock(productID: String, available: Int) async throws -> StockLevel {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO stock (product_id, available, reserved, committed) VALUES (?, ?, 0, 0)
                    ON CONFLICT (product_id) DO UPDATE SET available = excluded.available
                    """,
                arguments: [productID, available]
            )
            guard let level = try Self.stock(db, productID) else {
                throw RPCError(code: .internal, message: "stock record vanished")
            }
            return level
        }
    }

    // MARK: Reservations

    /// Holds the request's units for its order, or returns the order's
    /// existing reservation (whatever its state) without holding anything.
    ///
    /// - Throws: FAILED_PRECONDITION naming the first product without enough
    ///   available units; then nothing at all is held.
    func reserve(_ request: ReservationRequest, now: Date, ttlSeconds: Double) async throws -> StoredReservation {
        try await pool.write { db in
            if let existing = try Self.reservation(db, request.orderID) {
                return existing
            }
            for item in request.items {
                try db.execute(
                    sql: """
                        UPDATE stock SET available = available - ?, reserved = reserved + ?
                        WHERE product_id = ? AND available >= ?
                        """,
                    arguments: [item.quantity, item.quantity, item.productID, item.quantity]
                )
                guard db.changesCount == 1 else {
                    // Thrown inside the transaction: what earlier items took is rolled back.
                    throw Self.notEnoughStock(item, level: try Self.stock(db, item.productID))
                }
            }
            let time = now.timeIntervalSince1970
            try db.execute(
                sql: "INSERT INTO reservation (order_id, state, created_at, expires_at, updated_at) VALUES (?, 'reserved', ?, ?, ?)",
                arguments: [request.orderID, time, time + ttlSeconds, time]
            )
            for (position, item) in request.items.enumerated() {
                try db.execute(
                    sql: "INSERT INTO reservation_item (order_id, position, product_id, quantity) VALUES (?, ?, ?, ?)",
                    arguments: [request.orderID, position, item.productID, item.quantity]
                )
            }
            return StoredReservation(orderID: request.orderID, state: .reserved, items: request.items)
        }
    }

    /// Marks a held reservation sold: its units move from `reserved` to
    /// `committed`. A committed one is returned as it is.
    ///
    /// A late commit, for a reservation that expired, takes its units again
    /// straight from `available` to `committed`, all items or none, each by
    /// a conditional update that cannot take what is not there (so the sum
    /// of the three counts never changes and no count goes below zero).
    ///
    /// - Returns: `nil` when the order has no reservation.
    /// - Throws: ``CommitRefused`` (FAILED_PRECONDITION with a
    ///   `CommitRefusal` detail) when the reservation was released on
    ///   request, or expired and its units are no longer all available;
    ///   then nothing changes.
    func commit(orderID: String, now: Date) async throws -> StoredReservation? {
        try await pool.write { db in
            guard var reservation = try Self.reservation(db, orderID) else { return nil }
            switch reservation.state {
            case .committed:
                return reservation
            case .released:
                guard try Self.releaseCause(db, orderID) == .expiry else {
                    throw CommitRefused(orderID: orderID, reason: .released)
                }
                for item in reservation.items {
                    guard try Self.tryMove(db, item, from: .available, to: .committed) else {
                        // Thrown inside the transaction: what earlier items took is rolled back.
                        let level = try Self.stock(db, item.productID)
                        throw CommitRefused(orderID: orderID, reason: .stockGone, item: item, available: level?.available ?? 0)
                    }
                }
                try Self.setState(db, orderID, .committed, now: now)
                reservation.state = .committed
                return reservation
            case .reserved:
                for item in reservation.items {
                    try Self.move(db, item, from: .reserved, to: .committed)
                }
                try Self.setState(db, orderID, .committed, now: now)
                reservation.state = .committed
                return reservation
            }
        }
    }

    /// Gives the reservation's units back to `available`, from `reserved`
    /// or, for a committed one (an order cancelled), from `committed`. A
    /// released one is returned as it is.
    ///
    /// - Returns: `nil` when the order has no reservation.
    func release(orderID: String, now: Date) async throws -> StoredReservation? {
        try await pool.write { db in
            guard let reservation = try Self.reservation(db, orderID) else { return nil }
            return try Self.release(db, reservation, by: .request, now: now)
        }
    }

    /// Releases up to `limit` reservations still held past their expiry, in
    /// one transaction; returns how many it released.
    func releaseExpired(now: Date, limit: Int) async throws -> Int {
        try await pool.write { db in
            let orderIDs = try String.fetchAll(
                db,
                sql: "SELECT order_id FROM reservation WHERE state = 'reserved' AND expires_at <= ? ORDER BY expires_at LIMIT ?",
                arguments: [now.timeIntervalSince1970, limit]
            )
            for orderID in orderIDs {
                if let reservation = try Self.reservation(db, orderID) {
                    _ = try Self.release(db, reservation, by: .expiry, now: now)
                }
            }
            return orderIDs.count
        }
    }

    // MARK: Inside a transaction

    /// Why a reservation was released (the `released_by` column).
    private enum ReleaseCause: String {
        case expiry, request
    }

    private static func releaseCause(_ db: Database, _ orderID: String) throws -> ReleaseCause? {
        try String.fetchOne(db, sql: "SELECT released_by FROM reservation WHERE order_id = ?", arguments: [orderID])
            .flatMap(ReleaseCause.init(rawValue:))
    }

    private static func release(_ db: Database, _ reservation: StoredReservation, by cause: ReleaseCause, now: Date) throws -> StoredReservation {
        let heldIn: Count
        switch reservation.state {
        case .released:
            // A release on request after an expiry makes it final: a commit
            // still on its way must not take the units for a cancelled order.
            if cause == .request {
                try db.execute(
                    sql: "UPDATE reservation SET released_by = ? WHERE order_id = ?",
                    arguments: [cause.rawValue, reservation.orderID]
                )
            }
            return reservation
        case .reserved: heldIn = .reserved
        case .committed: heldIn = .committed
        }
        for item in reservation.items {
            try move(db, item, from: heldIn, to: .available)
        }
        try setState(db, reservation.orderID, .released, now: now)
        try db.execute(
            sql: "UPDATE reservation SET released_by = ? WHERE order_id = ?",
            arguments: [cause.rawValue, reservation.orderID]
        )
        var released = reservation
        released.state = .released
        return released
    }

    /// The count columns of `stock`.
    private enum Count: String {
        case available, reserved, committed
    }

    /// Moves an item's units between two count columns of its product. Only
    /// the column names (fixed ``Count`` cases) are part of the SQL text;
    /// every value is a bound argument.
    private static func move(_ db: Database, _ item: StoredReservation.Item, from: Count, to: Count) throws {
        guard try tryMove(db, item, from: from, to: to) else {
            // The counts no longer match the reservation: refuse rather than
            // break the invariant (the transaction rolls back).
            throw RPCError(code: .internal, message: "stock of product \(item.productID) does not hold the reservation's units")
        }
    }

    /// Moves an item's units between two count columns if `from` holds
    /// them all; `false` (and nothing changed) when it does not.
    private static func tryMove(_ db: Database, _ item: StoredReservation.Item, from: Count, to: Count) throws -> Bool {
        let (from, to) = (from.rawValue, to.rawValue)
        try db.execute(
            sql: "UPDATE stock SET \(from) = \(from) - ?, \(to) = \(to) + ? WHERE product_id = ? AND \(from) >= ?",
            arguments: [item.quantity, item.quantity, item.productID, item.quantity]
        )
        return db.changesCount == 1
    }

    private static func setState(_ db: Database, _ orderID: String, _ state: StoredReservation.State, now: Date) throws {
        try db.execute(
            sql: "UPDATE reservation SET state = ?, updated_at = ? WHERE order_id = ?",
            arguments: [state.rawValue, now.timeIntervalSince1970, orderID]
        )
    }

    private static func stock(_ db: Database, _ productID: String) throws -> StockLevel? {
        try Row.fetchOne(
            db,
            sql: "SELECT product_id, available, reserved, committed FROM stock WHERE product_id = ?",
            arguments: [productID]
        ).map { row in
            StockLevel(productID: row["product_id"], available: row["available"], reserved: row["reserved"], committed: row["committed"])
        }
    }

    private static func reservation(_ db: Database, _ orderID: String) throws -> StoredReservation? {
        guard let stateText = try String.fetchOne(
            db, sql: "SELECT state FROM reservation WHERE order_id = ?", arguments: [orderID]
        ) else { return nil }
        guard let state = StoredReservation.State(rawValue: stateText) else {
            throw RPCError(code: .internal, message: "reservation \(orderID) has an unknown state")
        }
        let items = try Row.fetchAll(
            db,
            sql: "SELECT product_id, quantity FROM reservation_item WHERE order_id = ? ORDER BY position",
            arguments: [orderID]
        ).map { row in StoredReservation.Item(productID: row["product_id"], quantity: row["quantity"]) }
        return StoredReservation(orderID: orderID, state: state, items: items)
    }

    private static func notEnoughStock(_ item: StoredReservation.Item, level: StockLevel?) -> RPCError {
        guard let level else {
            return RPCError(code: .failedPrecondition, message: "not enough stock for product \(item.productID): it has no stock, \(item.quantity) requested")
        }
        return RPCError(
            code: .failedPrecondition,
            message: "not enough stock for product \(item.productID): \(level.available) available, \(item.quantity) requested"
        )
    }
}
