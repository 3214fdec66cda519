/// Which metadata keys hold secrets: their values never reach a log line.
///
/// A key is secret when, lowercased with `-` read as `_`, it contains one
/// of ``secretFragments``: `password`, `new_password`, `Authorization`,
/// `access_token`, `SHOP_SIGNING_KEY`, `x-api-key` all are. Matching by
/// fragment errs on the side of hiding: a false positive costs a value in
/// a log line, a false negative leaks a credential.
public enum LogRedaction {
    /// What a secret value is replaced with.
    public static let placeholder = "[REDACTED]"

    public static let secretFragments = [
        "password", "passwd", "secret", "token", "authorization", "signing_key",
        "api_key", "apikey", "private_key", "cookie", "credential",
    ]

    /// The fragments as bytes, for ``isSecret(_:)``.
    private static let fragmentBytes: [[UInt8]] = secretFragments.map { Array($0.utf8) }

    /// Whether values under `key` must be hidden.
    ///
    /// It runs for every metadata key of every line (about ten per access
    /// line), so it works on bytes: ASCII letters lowered and `-` read as
    /// `_` while copying, then a plain search for each fragment. (The
    /// `String` way, `lowercased()` and `contains` with the standard
    /// library's substring searcher, cost more than the rest of the line.)
    /// Non-ASCII bytes are compared as they are; no fragment has any.
    public static func isSecret(_ key: String) -> Bool {
        var normalized: [UInt8] = []
        normalized.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): normalized.append(byte + 32)
            case UInt8(ascii: "-"): normalized.append(UInt8(ascii: "_"))
            default: normalized.append(byte)
            }
        }
        for fragment in fragmentBytes where fragment.count <= normalized.count {
            var start = 0
            while start + fragment.count <= normalized.count {
                var index = 0
                while index < fragment.count && normalized[start + index] == fragment[index] { index += 1 }
                if index == fragment.count { return true }
                start += 1
            }
        }
        return false
    }
}
