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

    /// Whether values under `key` must be hidden.
    public static func isSecret(_ key: String) -> Bool {
        var normalized = key.lowercased()
        if normalized.contains("-") { normalized = normalized.replacing("-", with: "_") }
        return secretFragments.contains { normalized.contains($0) }
    }
}
