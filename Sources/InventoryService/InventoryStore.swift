import FrameRPC
import Foundation
import ServiceSupport
import ShopStorage

/// Stock levels and reservations, in its own SQLite file or in the
/// `inventory` schema of a shared PostgreSQL database, every value a bound
/// argument.
///
/// Every operation that moves units is ONE write transaction: it reads the
/// reservation, checks it and changes both the reservation and the stock
/// rows before it commits; a rule broken half-way throws, which rolls back
/// everything the transaction did (all items or none). What keeps replicas
/// from overselling is decided by the database, never by this process:
/// each stock move is one conditional `UPDATE ... WHERE available >= ?`
/// (on PostgreSQL a concurrent move of the same product waits for the row
/// and re-checks the condition; SQLite runs one write transaction at a
/// time), the reservation row is locked (`FOR UPDATE`) before a commit or
/// release decides on it, products are moved in id order (no deadlock
/// between two orders of the same products), and a `CHECK` on every count
/// is a last line of defence: no count can ever go below zero.
struct InventoryStore: Sendable {
    private let database: any SQLDatabase

    init(_ database: any SQLDatabase) {
        self.database = database
    }

    static let migrations: [SQLMigration] = [
        SQLMigration("v1: stock and reservations") { _ in
            [
                """
                CREATE TABLE stock (
                    product_id TEXT PRIMARY KEY NOT NULL,
                    available BIGINT NOT NULL CHECK (available >= 0),
                    reserved BIGINT NOT NULL CHECK (reserved >= 0),
                    committed BIGINT NOT NULL CHECK (committed >= 0)
                )
                """,
                """
                CREATE TABLE reservation (
                    order_id TEXT PRIMARY KEY NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('reserved', 'committed', 'released')),
                    created_at DOUBLE PRECISION NOT NULL,
                    expires_at DOUBLE PRECISION NOT NULL,
                    updated_at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX reservation_expiry ON reservation (state, expires_at)",
                """
                CREATE TABLE reservation_item (
                    order_id TEXT NOT NULL REFERENCES reservation (order_id),
                    position BIGINT NOT NULL,
                    product_id TEXT NOT NULL,
                    quantity BIGINT NOT NULL CHECK (quantity >= 1),
                    PRIMARY KEY (order_id, position),
                    UNIQUE (order_id, product_id)
                )
                """,
            ]
        },
        // Why a reservation was released: a late commit may take the units
        // of an expired one again, never those of one released on request
        // (its order is gone). Rows released before this are treated as
        // released on request, the safe side.
        SQLMigration("v2: release cause") { _ in
            [
                """
                ALTER TABLE reservation ADD COLUMN released_by TEXT
                    CHECK (released_by IS NULL OR released_by IN ('expiry', 'request'))
                """,
            ]
        },
    ]

    // MARK: Stock

    /// The product's counts, or `nil` when it has no stock record.
    func stock(productID: String) async throws -> StockLevel? {
        try await database.read { db in try await Self.stock(db, productID) }
    }

    /// Sets the product's `available` count, creating its record if needed.
    /// Reserved and committed units are left as they are.
    func setStock(productID: String, available: Int) async throws -> StockLevel {
        try await database.write { db in
            try await db.execute(
                """
                INSERT INTO stock (product_id, available, reserved, committed) VALUES (?, ?, 0, 0)
                ON CONFLICT (product_id) DO UPDATE SET available = excluded.available
                """,
                [productID, available]
            )
            guard let level = try await Self.stock(db, productID) else {
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
        do {
            return try await database.write { db in
                if let existing = try await Self.reservation(db, request.orderID, locking: true) {
                    return existing
                }
                for item in Self.inLockOrder(request.items) {
                    let moved = try await db.execute(
                        """
                        UPDATE stock SET available = available - ?, reserved = reserved + ?
                        WHERE product_id = ? AND available >= ?
                        """,
                        [item.quantity, item.quantity, item.productID, item.quantity]
                    )
                    guard moved == 1 else {
                        // Thrown inside the transaction: what earlier items took is rolled back.
                        let level = try await Self.stock(db, item.productID)
                        throw Self.notEnoughStock(item, level: level)
                    }
                }
                let time = now.timeIntervalSince1970
                try await db.execute(
                    "INSERT INTO reservation (order_id, state, created_at, expires_at, updated_at) VALUES (?, 'reserved', ?, ?, ?)",
                    [request.orderID, time, time + ttlSeconds, time]
                )
                for (position, item) in request.items.enumerated() {
                    try await db.execute(
                        "INSERT INTO reservation_item (order_id, position, product_id, quantity) VALUES (?, ?, ?, ?)",
                        [request.orderID, position, item.productID, item.quantity]
                    )
                }
                return StoredReservation(orderID: request.orderID, state: .reserved, items: request.items)
            }
        } catch let error as StorageError where error.kind == .uniqueViolation {
            // The same order reserved at once on another replica: its
            // reservation won (this one's moves were rolled back).
            guard let existing = try await database.read({ db in try await Self.reservation(db, request.orderID, locking: false) }) else {
                throw error
            }
            return existing
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
        try await database.write { db in
            guard var reservation = try await Self.reservation(db, orderID, locking: true) else { return nil }
            switch reservation.state {
            case .committed:
                return reservation
            case .released:
                guard try await Self.releaseCause(db, orderID) == .expiry else {
                    throw CommitRefused(orderID: orderID, reason: .released)
                }
                for item in Self.inLockOrder(reservation.items) {
                    guard try await Self.tryMove(db, item, from: .available, to: .committed) else {
                        // Thrown inside the transaction: what earlier items took is rolled back.
                        let level = try await Self.stock(db, item.productID)
                        throw CommitRefused(orderID: orderID, reason: .stockGone, item: item, available: level?.available ?? 0)
                    }
                }
                try await Self.setState(db, orderID, .committed, now: now)
                reservation.state = .committed
                return reservation
            case .reserved:
                for item in Self.inLockOrder(reservation.items) {
                    try await Self.move(db, item, from: .reserved, to: .committed)
                }
                try await Self.setState(db, orderID, .committed, now: now)
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
        try await database.write { db in
            guard let reservation = try await Self.reservation(db, orderID, locking: true) else { return nil }
            return try await Self.release(db, reservation, by: .request, now: now)
        }
    }

    /// Releases up to `limit` reservations still held past their expiry, in
    /// one transaction; returns how many it released.
    ///
    /// Safe on every replica at once: on PostgreSQL the expired rows are
    /// claimed with `FOR UPDATE SKIP LOCKED`, so two sweepers take
    /// different reservations, and one a commit or release holds is left
    /// to that transaction (the next sweep sees what it decided).
    func releaseExpired(now: Date, limit: Int) async throws -> Int {
        try await database.write { db in
            let orderIDs = try await db.query(
                """
                SELECT order_id FROM reservation WHERE state = 'reserved' AND expires_at <= ?
                ORDER BY expires_at LIMIT ?\(db.dialect.forUpdateSkipLocked)
                """,
                [now.timeIntervalSince1970, limit]
            ).map { try $0.string("order_id") }
            for orderID in orderIDs {
                if let reservation = try await Self.reservation(db, orderID, locking: false) {
                    _ = try await Self.release(db, reservation, by: .expiry, now: now)
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

    private static func releaseCause(_ db: any SQLTransaction, _ orderID: String) async throws -> ReleaseCause? {
        try await db.queryOne("SELECT released_by FROM reservation WHERE order_id = ?", [orderID])?
            .optionalString("released_by")
            .flatMap(ReleaseCause.init(rawValue:))
    }

    private static func release(_ db: any SQLTransaction, _ reservation: StoredReservation, by cause: ReleaseCause, now: Date) async throws -> StoredReservation {
        let heldIn: Count
        switch reservation.state {
        case .released:
            // A release on request after an expiry makes it final: a commit
            // still on its way must not take the units for a cancelled order.
            if cause == .request {
                try await db.execute(
                    "UPDATE reservation SET released_by = ? WHERE order_id = ?",
                    [cause.rawValue, reservation.orderID]
                )
            }
            return reservation
        case .reserved: heldIn = .reserved
        case .committed: heldIn = .committed
        }
        for item in inLockOrder(reservation.items) {
            try await move(db, item, from: heldIn, to: .available)
        }
        try await setState(db, reservation.orderID, .released, now: now)
        try await db.execute(
            "UPDATE reservation SET released_by = ? WHERE order_id = ?",
            [cause.rawValue, reservation.orderID]
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
    private static func move(_ db: any SQLTransaction, _ item: StoredReservation.Item, from: Count, to: Count) async throws {
        guard try await tryMove(db, item, from: from, to: to) else {
            // The counts no longer match the reservation: refuse rather than
            // break the invariant (the transaction rolls back).
            throw RPCError(code: .internal, message: "stock of product \(item.productID) does not hold the reservation's units")
        }
    }

    /// Moves an item's units between two count columns if `from` holds
    /// them all; `false` (and nothing changed) when it does not.
    private static func tryMove(_ db: any SQLTransaction, _ item: StoredReservation.Item, from: Count, to: Count) async throws -> Bool {
        let (from, to) = (from.rawValue, to.rawValue)
        return try await db.execute(
            "UPDATE stock SET \(from) = \(from) - ?, \(to) = \(to) + ? WHERE product_id = ? AND \(from) >= ?",
            [item.quantity, item.quantity, item.productID, item.quantity]
        ) == 1
    }

    /// Items in product id order: every transaction takes the stock rows'
    /// locks in the same order, so two cannot wait for each other.
    private static func inLockOrder(_ items: [StoredReservation.Item]) -> [StoredReservation.Item] {
        items.sorted { $0.productID < $1.productID }
    }

    private static func setState(_ db: any SQLTransaction, _ orderID: String, _ state: StoredReservation.State, now: Date) async throws {
        try await db.execute(
            "UPDATE reservation SET state = ?, updated_at = ? WHERE order_id = ?",
            [state.rawValue, now.timeIntervalSince1970, orderID]
        )
    }

    private static func stock(_ db: any SQLTransaction, _ productID: String) async throws -> StockLevel? {
        try await db.queryOne(
            "SELECT product_id, available, reserved, committed FROM stock WHERE product_id = ?", [productID]
        ).map { row in
            StockLevel(
                productID: try row.string("product_id"), available: try row.int("available"),
                reserved: try row.int("reserved"), committed: try row.int("committed")
            )
        }
    }

    /// The order's reservation; with `locking`, its row is locked until the
    /// transaction ends (PostgreSQL), so a concurrent commit, release or
    /// sweep of the same order on another replica waits for this decision.
    private static func reservation(_ db: any SQLTransaction, _ orderID: String, locking: Bool) async throws -> StoredReservation? {
        let lock = locking ? db.dialect.forUpdate : ""
        guard let stateText = try await db.queryOne(
            "SELECT state FROM reservation WHERE order_id = ?\(lock)", [orderID]
        )?.string("state") else { return nil }
        guard let state = StoredReservation.State(rawValue: stateText) else {
            throw RPCError(code: .internal, message: "reservation \(orderID) has an unknown state")
        }
        let items = try await db.query(
            "SELECT product_id, quantity FROM reservation_item WHERE order_id = ? ORDER BY position", [orderID]
        ).map { row in StoredReservation.Item(productID: try row.string("product_id"), quantity: try row.int("quantity")) }
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
