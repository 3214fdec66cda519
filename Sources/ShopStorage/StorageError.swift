import FrameRPC

/// A database failure, as a typed value with the RPC status it answers:
/// the database unreachable or lost (UNAVAILABLE, retry later), a unique
/// constraint refused (the store decides what that means), a conflict
/// between concurrent transactions (ABORTED, retry), a result that does
/// not decode, or anything else (INTERNAL).
public struct StorageError: Error, RPCErrorConvertible, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case unavailable
        case uniqueViolation
        case conflict
        case malformed
        case other
    }

    public let kind: Kind
    public let message: String
    /// For ``Kind/uniqueViolation``: what the backend names as violated:
    /// SQLite's `table.column` list, PostgreSQL's constraint name
    /// (`table_column_key` for a column's UNIQUE).
    public let constraint: String?

    public init(_ kind: Kind, _ message: String, constraint: String? = nil) {
        self.kind = kind
        self.message = message
        self.constraint = constraint
    }

    /// Whether a unique violation is the one of `column` in `table`,
    /// on either backend.
    public func violatesUnique(table: String, column: String) -> Bool {
        guard kind == .uniqueViolation, let constraint else { return false }
        return constraint.contains("\(table).\(column)") || constraint == "\(table)_\(column)_key"
    }

    public var description: String { message }

    public var rpcError: RPCError {
        switch kind {
        case .unavailable: RPCError(code: .unavailable, message: message)
        case .conflict: RPCError(code: .aborted, message: message)
        case .uniqueViolation: RPCError(code: .alreadyExists, message: message)
        case .malformed, .other: RPCError(code: .internal, message: message)
        }
    }
}
