import Crypto
import Foundation

/// How the webhook proves it comes from this shop, and how a receiver
/// checks it.
///
/// Every POST carries `Shop-Signature: t=<unix seconds>,v1=<hex>`, where
/// `<hex>` is the lower-case hex HMAC-SHA256, keyed with the shared secret
/// (`SHOP_NOTIFY_WEBHOOK_SECRET`, its UTF-8 bytes), of the ASCII timestamp,
/// a `.` and the raw request body: `HMAC(secret, "<t>.<body>")`. A receiver
/// recomputes it over the body bytes as received, compares in constant
/// time, and refuses a timestamp more than five minutes away from its own
/// clock, so a captured request cannot be replayed later. ``verify(header:body:secret:now:tolerance:)``
/// is that check; the tests' receiver uses it.
public enum WebhookSignature {
    public static let headerName = "Shop-Signature"
    /// Five minutes either way.
    public static let defaultTolerance: TimeInterval = 300

    public enum VerificationError: Error, Hashable, Sendable, CustomStringConvertible {
        case malformedHeader
        case timestampOutsideTolerance
        case signatureMismatch

        public var description: String {
            switch self {
            case .malformedHeader: return "the Shop-Signature header is not t=<seconds>,v1=<hex>"
            case .timestampOutsideTolerance: return "the signature's timestamp is more than the tolerance away (a replay, or a clock off)"
            case .signatureMismatch: return "the signature does not match the body"
            }
        }
    }

    /// The header value for `body` sent at `timestamp` (unix seconds).
    public static func header(body: [UInt8], secret: [UInt8], timestamp: Int64) -> String {
        "t=\(timestamp),v1=\(hex(mac(body: body, secret: secret, timestamp: timestamp)))"
    }

    /// Checks a received request: the header parses, its timestamp is
    /// within `tolerance` of `now`, and one of its `v1` signatures is the
    /// HMAC of `body` (several `v1` entries may be sent while a secret is
    /// rotated).
    public static func verify(
        header: String, body: [UInt8], secret: [UInt8], now: Date = Date(), tolerance: TimeInterval = defaultTolerance
    ) throws(VerificationError) {
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw .malformedHeader }
            switch pair[0] {
            case "t":
                guard let value = Int64(pair[1]) else { throw .malformedHeader }
                timestamp = value
            case "v1":
                guard let bytes = bytes(hex: pair[1]) else { throw .malformedHeader }
                signatures.append(bytes)
            default:
                continue
            }
        }
        guard let timestamp, !signatures.isEmpty else { throw .malformedHeader }
        guard abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { throw .timestampOutsideTolerance }
        let key = SymmetricKey(data: secret)
        let signed = signedBytes(body: body, timestamp: timestamp)
        for signature in signatures where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) {
            return
        }
        throw .signatureMismatch
    }

    static func mac(body: [UInt8], secret: [UInt8], timestamp: Int64) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: signedBytes(body: body, timestamp: timestamp), using: SymmetricKey(data: secret)))
    }

    private static func signedBytes(body: [UInt8], timestamp: Int64) -> [UInt8] {
        Array("\(timestamp).".utf8) + body
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0, !digits.isEmpty else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
