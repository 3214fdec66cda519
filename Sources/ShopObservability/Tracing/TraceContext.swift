/// A W3C trace context (https://www.w3.org/TR/trace-context/): which trace a
/// piece of work belongs to and which span inside it is doing the work.
///
/// The gateway reads one from an incoming `traceparent` header or starts a
/// new one; every hop makes a child with a new span id and the same trace
/// id, so one order can be followed through the logs of every process.
///
/// ```
/// traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
///              ^  ^ trace id (32 hex)               ^ span id (16 hex) ^ flags
///              version
/// ```
public struct TraceContext: Sendable, Hashable {
    /// The trace id's first and last 8 bytes; never both zero.
    public let traceIDHigh: UInt64
    public let traceIDLow: UInt64
    /// The span doing the work: the parent of anything it calls. Never zero.
    public let spanID: UInt64
    /// Trace flags; bit 0 is "sampled".
    public let flags: UInt8
    /// The vendor-specific `tracestate` that travels with the trace, untouched.
    public var traceState: String?

    /// The header name for the trace parent, as HTTP and FrameRPC metadata spell it.
    public static let traceParentKey = "traceparent"
    /// The header name for the trace state.
    public static let traceStateKey = "tracestate"

    public init(traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, flags: UInt8 = 0x01, traceState: String? = nil) {
        precondition(traceIDHigh != 0 || traceIDLow != 0, "a trace id must not be all zero")
        precondition(spanID != 0, "a span id must not be all zero")
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.spanID = spanID
        self.flags = flags
        self.traceState = traceState
    }

    /// A new trace with a random trace id and span id, sampled.
    public static func newTrace() -> TraceContext {
        var high: UInt64 = 0
        var low: UInt64 = 0
        while high == 0 && low == 0 {
            high = TraceIDGenerator.next()
            low = TraceIDGenerator.next()
        }
        return TraceContext(traceIDHigh: high, traceIDLow: low, spanID: TraceIDGenerator.nextNonZero())
    }

    /// A span of the same trace under this one: same trace id, flags and
    /// state, a new random span id.
    public func childSpan() -> TraceContext {
        TraceContext(
            traceIDHigh: traceIDHigh, traceIDLow: traceIDLow,
            spanID: TraceIDGenerator.nextNonZero(), flags: flags, traceState: traceState
        )
    }

    /// Whether the caller asked for this trace to be recorded.
    public var isSampled: Bool { flags & 0x01 != 0 }

    /// The trace id as 32 lowercase hex digits: what log lines carry.
    public var traceID: String { Hex.string(traceIDHigh) + Hex.string(traceIDLow) }

    /// The span id as 16 lowercase hex digits.
    public var spanIDString: String { Hex.string(spanID) }

    /// The `traceparent` header value, version 00; written into one
    /// buffer, since every call makes one.
    public var traceParent: String {
        String(unsafeUninitializedCapacity: 55) { buffer in
            buffer[0] = UInt8(ascii: "0"); buffer[1] = UInt8(ascii: "0"); buffer[2] = UInt8(ascii: "-")
            Hex.write(traceIDHigh, into: buffer, at: 3)
            Hex.write(traceIDLow, into: buffer, at: 19)
            buffer[35] = UInt8(ascii: "-")
            Hex.write(spanID, into: buffer, at: 36)
            buffer[52] = UInt8(ascii: "-")
            Hex.write(flags, into: buffer, at: 53)
            return 55
        }
    }

}

extension TraceContext {
    /// Parses a `traceparent` header value; `nil` when it is not a valid
    /// one, in which case the receiver starts a new trace (the W3C rule).
    ///
    /// Valid: lowercase hex fields `version-traceid-parentid-flags` with a
    /// version other than `ff`, a trace id and a parent id that are not all
    /// zero. Version `00` is exactly 55 characters; a later version may be
    /// longer, its extra fields starting with `-`, and is read as `00`.
    ///
    /// - Parameters:
    ///   - header: the `traceparent` value; surrounding spaces and tabs are allowed.
    ///   - traceState: the `tracestate` value that came with it, kept as is.
    public init?(traceParent header: String, traceState: String? = nil) {
        var header = header
        let parsed: (UInt64, UInt64, UInt64, UInt8)? = header.withUTF8 { bytes in
            var start = 0
            var end = bytes.count
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            let field = UnsafeBufferPointer(rebasing: bytes[start..<end])
            return Self.parse(field)
        }
        guard let (high, low, span, flags) = parsed else { return nil }
        self.init(traceIDHigh: high, traceIDLow: low, spanID: span, flags: flags, traceState: traceState.flatMap { $0.isEmpty ? nil : $0 })
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64, UInt64, UInt8)? {
        guard bytes.count >= 55,
              bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-"),
              let version = Hex.value(bytes, from: 0, count: 2), version != 0xFF else { return nil }
        if version == 0 {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55, bytes[55] != UInt8(ascii: "-") {
            return nil
        }
        guard let high = Hex.value(bytes, from: 3, count: 16),
              let low = Hex.value(bytes, from: 19, count: 16),
              let span = Hex.value(bytes, from: 36, count: 16),
              let flags = Hex.value(bytes, from: 53, count: 2) else { return nil }
        guard high != 0 || low != 0, span != 0 else { return nil }
        return (high, low, span, UInt8(flags))
    }
}

extension TraceContext: CustomStringConvertible {
    public var description: String { traceParent }
}

/// Lowercase hex without Foundation, for the hot path of every call.
enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `value` as exactly `2 * MemoryLayout<T>.size` lowercase hex digits.
    static func string<T: FixedWidthInteger & UnsignedInteger>(_ value: T) -> String {
        let count = MemoryLayout<T>.size * 2
        return String(unsafeUninitializedCapacity: count) { buffer in
            write(value, into: buffer, at: 0)
            return count
        }
    }

    /// Writes `value`'s `2 * MemoryLayout<T>.size` hex digits at `offset`.
    static func write<T: FixedWidthInteger & UnsignedInteger>(_ value: T, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var rest = value
        for index in stride(from: offset + MemoryLayout<T>.size * 2 - 1, through: offset, by: -1) {
            buffer[index] = digits[Int(truncatingIfNeeded: rest & 0xF)]
            rest >>= 4
        }
    }

    /// The number spelled by `count` lowercase hex digits at `from`, or `nil`
    /// if any is not one (uppercase is invalid in trace context).
    static func value(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, count: Int) -> UInt64? {
        var result: UInt64 = 0
        for index in start..<(start + count) {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            result = result << 4 | UInt64(digit)
        }
        return result
    }
}
