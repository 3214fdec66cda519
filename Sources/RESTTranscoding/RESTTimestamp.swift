import NIOCore

/// RFC 3339 timestamps as protobuf's JSON mapping writes them
/// (`2026-12-01T15:04:05Z`, with 3, 6 or 9 fraction digits when there are
/// any), without Foundation's date formatters.
enum RESTTimestamp {
    /// Years 0001 to 9999, as protobuf allows.
    static let minimumSeconds: Int64 = -62_135_596_800
    static let maximumSeconds: Int64 = 253_402_300_799

    /// Writes `"2026-12-01T15:04:05.250Z"` (quoted) from seconds and
    /// nanoseconds since 1970, straight into `buffer`'s memory in one
    /// write: no string is built on the way (a response writes one or two
    /// per record).
    static func write(seconds: Int64, nanos: Int32, into buffer: inout ByteBuffer) {
        let clamped = min(max(seconds, minimumSeconds), maximumSeconds)
        let days = clamped >= 0 ? clamped / 86_400 : (clamped - 86_399) / 86_400
        let secondOfDay = clamped - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let nanos = Int64(min(max(nanos, 0), 999_999_999))
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 32) { raw in
            var index = 0
            func put(_ byte: UInt8) {
                raw[index] = byte
                index += 1
            }
            func digits(_ value: Int64, _ count: Int) {
                var rest = value
                for position in stride(from: index + count - 1, through: index, by: -1) {
                    raw[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                index += count
            }
            put(UInt8(ascii: "\""))
            digits(year, 4)
            put(UInt8(ascii: "-"))
            digits(month, 2)
            put(UInt8(ascii: "-"))
            digits(day, 2)
            put(UInt8(ascii: "T"))
            digits(secondOfDay / 3600, 2)
            put(UInt8(ascii: ":"))
            digits(secondOfDay / 60 % 60, 2)
            put(UInt8(ascii: ":"))
            digits(secondOfDay % 60, 2)
            if nanos != 0 {
                put(UInt8(ascii: "."))
                if nanos % 1_000_000 == 0 {
                    digits(nanos / 1_000_000, 3)
                } else if nanos % 1000 == 0 {
                    digits(nanos / 1000, 6)
                } else {
                    digits(nanos, 9)
                }
            }
            put(UInt8(ascii: "Z"))
            put(UInt8(ascii: "\""))
            return index
        }
    }

    /// Seconds and nanoseconds since 1970 from `YYYY-MM-DDTHH:MM:SS[.f+](Z|±HH:MM)`.
    static func parse(_ text: String) -> (seconds: Int64, nanos: Int32)? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            index += count
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60 else { return nil }
        var nanos: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                guard count < 9 else { return nil }
                nanos = nanos * 10 + Int64(bytes[index] - 0x30)
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<9 { nanos *= 10 }
        }
        var offset: Int64 = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2), expect(":"), let minutes = number(2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count, year >= 1 else { return nil }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard (minimumSeconds...maximumSeconds).contains(seconds) else { return nil }
        return (seconds, Int32(nanos))
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    private static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
