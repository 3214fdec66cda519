/// One row of a result, by column name, with typed reads that fail with a
/// ``StorageError`` (never a crash) when a column is missing or of another type.
public struct SQLRow: Sendable {
    private let values: [String: SQLValue]

    public init(_ values: [String: SQLValue]) {
        self.values = values
    }

    /// The raw value; `.null` for a column the row does not have.
    public subscript(column: String) -> SQLValue {
        values[column] ?? .null
    }

    public func string(_ column: String) throws -> String {
        guard let value = try optionalString(column) else { throw missing(column) }
        return value
    }

    public func optionalString(_ column: String) throws -> String? {
        switch try present(column) {
        case .null: return nil
        case .text(let text): return text
        default: throw mismatch(column, "text")
        }
    }

    public func int64(_ column: String) throws -> Int64 {
        guard let value = try optionalInt64(column) else { throw missing(column) }
        return value
    }

    public func int(_ column: String) throws -> Int {
        Int(try int64(column))
    }

    public func optionalInt64(_ column: String) throws -> Int64? {
        switch try present(column) {
        case .null: return nil
        case .integer(let integer): return integer
        case .bool(let bool): return bool ? 1 : 0
        default: throw mismatch(column, "an integer")
        }
    }

    public func double(_ column: String) throws -> Double {
        switch try present(column) {
        case .real(let real): return real
        case .integer(let integer): return Double(integer)
        default: throw mismatch(column, "a number")
        }
    }

    /// A boolean, or SQLite's 0 and 1.
    public func bool(_ column: String) throws -> Bool {
        switch try present(column) {
        case .bool(let bool): return bool
        case .integer(let integer): return integer != 0
        default: throw mismatch(column, "a boolean")
        }
    }

    private func present(_ column: String) throws -> SQLValue {
        guard let value = values[column] else {
            throw StorageError(.malformed, "the result has no column \(column)")
        }
        return value
    }

    private func missing(_ column: String) -> StorageError {
        StorageError(.malformed, "column \(column) is NULL")
    }

    private func mismatch(_ column: String, _ expected: String) -> StorageError {
        StorageError(.malformed, "column \(column) is not \(expected)")
    }
}
