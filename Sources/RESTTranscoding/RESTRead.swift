import Foundation
import SwiftProtobuf

/// The conversions the generated request builders call: a path or query
/// value given as text (or a body value's text, through ``RESTBodyReader``)
/// to the typed value of its field, with the error class the gateway answers (wrong type 400, value
/// outside its domain 422). Paths name the field in errors (`book.price`,
/// `items[0].quantity`).
public enum RESTRead {
    // MARK: Structure

    /// `path.name`, or `name` at the top.
    @inlinable
    public static func path(_ path: String, _ name: String) -> String {
        path.isEmpty ? name : "\(path).\(name)"
    }

    // MARK: Text values (path variables, query parameters)

    public static func bool(text: String, at path: String) throws(TranscodingError) -> Bool {
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw TranscodingError.wrongType(path, "true or false")
        }
    }

    public static func int32(text: String, at path: String) throws(TranscodingError) -> Int32 {
        Int32(try signed(text, in: Int64(Int32.min)...Int64(Int32.max), at: path))
    }

    public static func uint32(text: String, at path: String) throws(TranscodingError) -> UInt32 {
        UInt32(try signed(text, in: 0...Int64(UInt32.max), at: path))
    }

    public static func int64(text: String, at path: String) throws(TranscodingError) -> Int64 {
        try signed(text, in: Int64.min...Int64.max, at: path)
    }

    public static func uint64(text: String, at path: String) throws(TranscodingError) -> UInt64 {
        try unsigned(text, at: path)
    }

    /// A number as JSON writes one (no `nan`, no hex, no leading `+`).
    public static func double(text: String, at path: String) throws(TranscodingError) -> Double {
        guard case .number? = try? JSONParser.parse(Array(text.utf8)) else { throw TranscodingError.wrongType(path, "a number") }
        return try finite(text, at: path)
    }

    public static func money(text: String, at path: String) throws(TranscodingError) -> Int64 {
        try cents(text, at: path)
    }

    public static func bytes(text: String, at path: String) throws(TranscodingError) -> Data {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        guard let data = Data(base64Encoded: standard) else { throw TranscodingError.wrongType(path, "base64") }
        return data
    }

    public static func timestamp(text: String, at path: String) throws(TranscodingError) -> Google_Protobuf_Timestamp {
        guard let (seconds, nanos) = RESTTimestamp.parse(text) else {
            throw TranscodingError.wrongType(path, "an RFC 3339 timestamp like 2026-12-01T15:04:05Z")
        }
        var timestamp = Google_Protobuf_Timestamp()
        timestamp.seconds = seconds
        timestamp.nanos = nanos
        return timestamp
    }

    public static func enumeration(text: String, at path: String, allowed: String, _ number: (String) -> Int?) throws(TranscodingError) -> Int {
        guard let value = number(text.lowercased()) else { throw TranscodingError(.invalid, "\(path): must be one of \(allowed)") }
        return value
    }

    // MARK: Numbers

    private static func signed(_ text: String, in range: ClosedRange<Int64>, at path: String) throws(TranscodingError) -> Int64 {
        guard let value = Int64(text) else { throw TranscodingError.wrongType(path, "an integer") }
        guard range.contains(value) else { throw TranscodingError(.invalid, "\(path): \(value) is out of range") }
        return value
    }

    private static func unsigned(_ text: String, at path: String) throws(TranscodingError) -> UInt64 {
        guard let value = UInt64(text) else { throw TranscodingError.wrongType(path, "a non-negative integer") }
        return value
    }

    static func finite(_ text: String, at path: String) throws(TranscodingError) -> Double {
        guard let value = Double(text) else { throw TranscodingError.wrongType(path, "a number") }
        guard value.isFinite else { throw TranscodingError(.invalid, "\(path): is out of range") }
        return value
    }

    /// Integer cents from a decimal with at most two decimals; never
    /// through floating point, so `19.99` is exactly 1999.
    public static func cents(_ text: String, at path: String) throws(TranscodingError) -> Int64 {
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].allSatisfy(\.isASCII), let whole = Int64(parts[0]) else {
            throw TranscodingError.wrongType(path, "a decimal number like 19.99")
        }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let decimals = parts[1]
            guard !decimals.isEmpty, decimals.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw TranscodingError.wrongType(path, "a decimal number like 19.99")
            }
            guard decimals.count <= 2 else { throw TranscodingError(.invalid, "\(path): must have at most two decimals") }
            fraction = Int64(decimals)! * (decimals.count == 1 ? 10 : 1)
        }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 100)
        guard !overflow, scaled <= Int64.max - fraction else { throw TranscodingError(.invalid, "\(path): is too large") }
        return negative ? -(scaled + fraction) : scaled + fraction
    }
}
