import Foundation
import GRDB
import ShopAPI
import SwiftProtobuf

/// One row of the `product` table: a product as the catalog stores it.
///
/// Timestamps are whole milliseconds since 1970, so what a write answers is
/// exactly what later reads return (no precision lost in storage).
struct ProductRecord: Sendable, Hashable, FetchableRecord {
    var id: String
    var name: String
    var description: String
    /// Integer cents.
    var price: Int64
    /// Empty when the product has none.
    var category: String
    var createdAtMilliseconds: Int64
    var updatedAtMilliseconds: Int64

    init(
        id: String,
        name: String,
        description: String,
        price: Int64,
        category: String,
        createdAtMilliseconds: Int64,
        updatedAtMilliseconds: Int64
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.price = price
        self.category = category
        self.createdAtMilliseconds = createdAtMilliseconds
        self.updatedAtMilliseconds = updatedAtMilliseconds
    }

    init(row: Row) throws {
        id = row["id"]
        name = row["name"]
        description = row["description"]
        price = row["price"]
        category = row["category"]
        createdAtMilliseconds = row["created_at"]
        updatedAtMilliseconds = row["updated_at"]
    }

    /// The record as the API shows it.
    var message: Shop_Product_V1_Product {
        .with {
            $0.id = id
            $0.name = name
            $0.description_p = description
            $0.price = price
            $0.category = category
            $0.createdAt = Self.timestamp(milliseconds: createdAtMilliseconds)
            $0.updatedAt = Self.timestamp(milliseconds: updatedAtMilliseconds)
        }
    }

    /// The current time, in the stored precision.
    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down))
    }

    /// `Google_Protobuf_Timestamp(date:)` for a stored time, computed in
    /// integers so that no floating-point rounding shows in the nanoseconds.
    static func timestamp(milliseconds: Int64) -> Google_Protobuf_Timestamp {
        let seconds = milliseconds.quotientRoundingDown(by: 1_000)
        let remainder = milliseconds - seconds * 1_000
        return Google_Protobuf_Timestamp(seconds: seconds, nanos: Int32(remainder) * 1_000_000)
    }
}

extension Int64 {
    /// Division rounding towards minus infinity (times before 1970 too).
    fileprivate func quotientRoundingDown(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}
