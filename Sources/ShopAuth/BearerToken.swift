/// The `Bearer <token>` form of an `Authorization` value: read by the
/// gateway from the HTTP header and by every service from the
/// `authorization` metadata the gateway forwards, written by the gateway.
public enum BearerToken {
    /// The token of `Bearer <token>` (the scheme in any case, spaces or tabs
    /// around it); `nil` for another scheme, no token, or a token with blanks.
    public static func parse(_ value: String) -> String? {
        var text = Substring(value)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        guard let blank = text.firstIndex(where: { $0 == " " || $0 == "\t" }),
              text[..<blank].lowercased() == "bearer" else { return nil }
        var token = text[blank...]
        while let first = token.first, first == " " || first == "\t" { token = token.dropFirst() }
        guard !token.isEmpty, !token.contains(where: { $0 == " " || $0 == "\t" }) else { return nil }
        return String(token)
    }

    /// `Bearer <token>`.
    public static func authorization(_ token: String) -> String {
        "Bearer \(token)"
    }
}
