#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall-clock time as RFC 3339 in UTC with milliseconds,
/// `2026-03-01T09:05:07.042Z`: sortable as text, read by every log tool.
///
/// Written by hand from `clock_gettime` and `gmtime_r`: Foundation's
/// formatters are slow and not meant to be shared across threads.
enum RFC3339Timestamp {
    /// Now.
    static func now() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return format(seconds: Int(time.tv_sec), milliseconds: Int(time.tv_nsec) / 1_000_000)
    }

    /// `seconds` since 1970 plus `milliseconds` (0...999), in UTC.
    static func format(seconds: Int, milliseconds: Int) -> String {
        var epoch = time_t(seconds)
        var parts = tm()
        gmtime_r(&epoch, &parts)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func put(_ value: Int, digits: Int) {
                var divisor = 1
                for _ in 1..<digits { divisor *= 10 }
                var rest = value
                while divisor > 0 {
                    buffer[index] = UInt8(ascii: "0") + UInt8(rest / divisor)
                    rest %= divisor
                    divisor /= 10
                    index += 1
                }
            }
            func put(_ character: Unicode.Scalar) {
                buffer[index] = UInt8(ascii: character)
                index += 1
            }
            put(Int(parts.tm_year) + 1900, digits: 4); put("-")
            put(Int(parts.tm_mon) + 1, digits: 2); put("-")
            put(Int(parts.tm_mday), digits: 2); put("T")
            put(Int(parts.tm_hour), digits: 2); put(":")
            put(Int(parts.tm_min), digits: 2); put(":")
            put(Int(parts.tm_sec), digits: 2); put(".")
            put(milliseconds, digits: 3); put("Z")
            return index
        }
    }
}
