import Foundation
import GRDB
import ShopObservability
import Tracing

/// One row of the `outbox` table: something another service must be told,
/// written in the same transaction as the order change it describes, and
/// delivered by an ``OutboxRelay`` until acknowledged (at least once).
///
/// Two destinations share the table: the notification service (events such
/// as `order_confirmed`, whose id the notification service deduplicates)
/// and the inventory service (`inventory_commit`, `inventory_release`:
/// idempotent calls keyed by the order id). Each order's events for one
/// destination are delivered in the order they were written (`seq`); events
/// of different orders do not wait for each other, so one event that keeps
/// failing holds back only the events of its own order.
///
/// An event remembers the trace and request it was written for
/// (``Origin``), so its delivery, which happens later and outside any
/// request, continues that trace: the notification service's log line for
/// an order carries the order's trace id.
struct OutboxEvent: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "outbox"

    enum Destination: String, Codable, Sendable {
        case notification
        case inventory
    }

    enum Kind {
        static let inventoryCommit = "inventory_commit"
        static let inventoryRelease = "inventory_release"
        /// The notification sent when an order is cancelled because its
        /// late commit found the units sold to someone else.
        static let orderCancelledOutOfStock = "order_cancelled_out_of_stock"

        /// The notification kind for an order reaching `status`, e.g.
        /// `order_confirmed`.
        static func order(_ statusName: String) -> String { "order_\(statusName)" }
    }

    /// Delivery order; assigned by the database on insert.
    var seq: Int64?
    /// The event id the receiver deduplicates on.
    var id: String
    var destination: Destination
    var kind: String
    var orderID: String
    var userID: String
    /// The event's facts, a JSON object of strings.
    var payload: String
    var createdAt: Int64
    var deliveredAt: Int64?
    var attempts: Int
    var lastError: String?
    /// Set when the receiver refused the event for good (a caller error):
    /// it is kept for inspection but no longer retried.
    var abandoned: Bool
    /// Microseconds since 1970 before which a failed event is not tried
    /// again (its backoff); `nil` for an event that has not failed.
    var nextAttemptAt: Int64?
    /// The `traceparent` of the span that wrote the event, if any.
    var traceParent: String?
    /// The request id of the request that wrote the event, if any.
    var requestID: String?

    /// The trace and request an event is written for.
    struct Origin: Sendable, Hashable {
        var traceParent: String?
        var requestID: String?

        /// The current task's, from its `ServiceContext`. Read it in the
        /// handler's task, before the transaction: the database may run
        /// statements where the task's context is not.
        static var current: Origin {
            let context = ServiceContext.current
            return Origin(traceParent: context?.traceContext?.traceParent, requestID: context?.requestID)
        }

        /// The context a delivery runs in: a new span of the writer's
        /// trace, with its request id; a new trace when the event has none.
        var deliveryContext: ServiceContext {
            let parent = traceParent.flatMap { TraceContext(traceParent: $0) }
            return ServiceContext.request(trace: parent?.childSpan() ?? TraceContext.newTrace(), requestID: requestID)
        }
    }

    var origin: Origin { Origin(traceParent: traceParent, requestID: requestID) }

    enum CodingKeys: String, CodingKey {
        case seq, id, destination, kind
        case orderID = "order_id"
        case userID = "user_id"
        case payload
        case createdAt = "created_at"
        case deliveredAt = "delivered_at"
        case attempts
        case lastError = "last_error"
        case abandoned
        case nextAttemptAt = "next_attempt_at"
        case traceParent = "trace_parent"
        case requestID = "request_id"
    }

    enum Columns {
        static let seq = Column(CodingKeys.seq)
        static let id = Column(CodingKeys.id)
        static let destination = Column(CodingKeys.destination)
        static let kind = Column(CodingKeys.kind)
        static let orderID = Column(CodingKeys.orderID)
        static let deliveredAt = Column(CodingKeys.deliveredAt)
        static let attempts = Column(CodingKeys.attempts)
        static let lastError = Column(CodingKeys.lastError)
        static let abandoned = Column(CodingKeys.abandoned)
        static let nextAttemptAt = Column(CodingKeys.nextAttemptAt)
    }

    init(
        destination: Destination,
        kind: String,
        orderID: String,
        userID: String,
        data: [String: String] = [:],
        origin: Origin = .current
    ) {
        self.seq = nil
        self.id = UUID().uuidString.lowercased()
        self.destination = destination
        self.kind = kind
        self.orderID = orderID
        self.userID = userID
        self.payload = Self.encode(data)
        self.createdAt = StoredTime.now()
        self.deliveredAt = nil
        self.attempts = 0
        self.lastError = nil
        self.abandoned = false
        self.nextAttemptAt = nil
        self.traceParent = origin.traceParent
        self.requestID = origin.requestID
    }

    /// An event as read back from the outbox.
    init(
        seq: Int64?, id: String, destination: Destination, kind: String, orderID: String, userID: String,
        payload: String, createdAt: Int64, deliveredAt: Int64?, attempts: Int, lastError: String?, abandoned: Bool,
        nextAttemptAt: Int64?, traceParent: String?, requestID: String?
    ) {
        self.seq = seq
        self.id = id
        self.destination = destination
        self.kind = kind
        self.orderID = orderID
        self.userID = userID
        self.payload = payload
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.attempts = attempts
        self.lastError = lastError
        self.abandoned = abandoned
        self.nextAttemptAt = nextAttemptAt
        self.traceParent = traceParent
        self.requestID = requestID
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }

    /// The facts decoded; empty if the payload is unreadable.
    var data: [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(payload.utf8))) ?? [:]
    }

    private static func encode(_ data: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let bytes = (try? encoder.encode(data)) ?? Data("{}".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }
}
