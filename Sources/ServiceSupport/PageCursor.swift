import FrameRPC
import Foundation

/// Cursor pagination in the spirit of Google's AIP-158, for every list RPC:
/// `page_size` (0: the default 100, at most 1000), `page_token` (empty for
/// the first page) and `next_page_token` in the response (empty after the
/// last page). The older `skip`/`limit` still work: `limit` stands in for
/// a missing `page_size`, and `skip` is allowed on the first page only.
///
/// A token is opaque to clients: base64url of a version byte, the key of
/// the last item returned (one or more integers: the store's keyset, such
/// as `seq` or `created_at`; for lists whose integers can repeat, a text
/// tie-breaker after them, such as the `id` of an order) and a 64-bit tag over the list's
/// name, its filters and the key. A token sent with other filters than the
/// ones it was made for, or with a changed byte, fails the tag check and is
/// INVALID_ARGUMENT: it cannot be replayed elsewhere. (The tag is a
/// checksum, not a signature: a client that rebuilds one only moves where
/// its own filtered list starts, which grants nothing.)
///
/// The store reads `WHERE key > last ORDER BY key LIMIT size + 1` (or `<`
/// for newest-first lists), so a page costs the same at any depth, and
/// items inserted while a client walks the pages never make it see an item
/// twice or skip one that existed when it started.
public struct PageCursor: Sendable, Hashable {
    public static let version: UInt8 = 1
    /// The version byte of a token whose key ends with a text tie-breaker:
    /// a token of the older all-integer form is refused by such a list
    /// rather than read as text.
    public static let textKeyVersion: UInt8 = 2

    /// Items per page.
    public let size: Int
    /// Items to pass over before the page (first page only, `skip`).
    public let skip: Int
    /// The key of the last item of the previous page; `nil` for the first.
    public let after: [Int64]?
    /// For a list made with `textKey`, the text that ends the previous
    /// page's key (the tie-breaker between items whose integers are the
    /// same, such as orders of one microsecond by `id`); `nil` for the
    /// first page and for lists without one.
    public let afterText: String?
    private let fingerprint: UInt64

    /// - Parameters:
    ///   - list: the list's name (`products`), part of the fingerprint.
    ///   - filters: every filter of the request, in a fixed order, as text:
    ///     a token only works with the same ones.
    ///   - keyCount: how many integers a key of this list has.
    ///   - textKey: whether a key ends with a text tie-breaker after its
    ///     integers (``afterText``). Keyset columns that exist on every
    ///     backend (`created_at`, `id`), rather than SQLite's `rowid`.
    /// - Throws: INVALID_ARGUMENT for a negative or too large size, a
    ///   negative `skip`, `skip` beside a token, or a token that is not one
    ///   of this list with these filters.
    public init(
        pageSize: Int32,
        pageToken: String,
        skip: Int32,
        limit: Int32,
        list: String,
        filters: [String] = [],
        keyCount: Int = 1,
        textKey: Bool = false
    ) throws {
        guard pageSize >= 0 else { throw Validation.invalid("page_size", "must be 0 or more") }
        guard pageSize <= Page.maximumLimit else { throw Validation.invalid("page_size", "must be at most \(Page.maximumLimit)") }
        let page = try Page(skip: skip, limit: limit)
        size = pageSize > 0 ? Int(pageSize) : page.limit
        fingerprint = Self.fingerprint(list: list, filters: filters)
        if pageToken.isEmpty {
            self.skip = page.skip
            after = nil
            afterText = nil
        } else {
            guard page.skip == 0 else { throw Validation.invalid("skip", "cannot be combined with page_token") }
            self.skip = 0
            let key = try Self.key(in: pageToken, fingerprint: fingerprint, keyCount: keyCount, textKey: textKey)
            after = key.integers
            afterText = key.text
        }
    }

    /// The response's `next_page_token`: a token after `lastKey` (and,
    /// for a list with a text tie-breaker, `lastText`) when the store found
    /// more than ``size`` items (it reads one more than the page to know),
    /// empty otherwise.
    public func nextPageToken(lastKey: [Int64]?, lastText: String? = nil, hasMore: Bool) -> String {
        guard hasMore, let lastKey else { return "" }
        return Self.token(key: lastKey, text: lastText, fingerprint: fingerprint)
    }

    static func token(key: [Int64], text: String? = nil, fingerprint: UInt64) -> String {
        var bytes: [UInt8] = [text == nil ? version : textKeyVersion]
        for value in key { bytes.append(contentsOf: bigEndianBytes(UInt64(bitPattern: value))) }
        if let text { bytes.append(contentsOf: text.utf8) }
        bytes.append(contentsOf: bigEndianBytes(tag(bytes, fingerprint: fingerprint)))
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The integers (and text tie-breaker) of a token this list made.
    static func key(in token: String, fingerprint: UInt64, keyCount: Int, textKey: Bool = false) throws -> (integers: [Int64], text: String?) {
        let invalid = Validation.invalid("page_token", "is not a token of this list with these filters")
        guard token.utf8.count <= maximumTokenLength else { throw invalid }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64.append("=") }
        guard let data = Data(base64Encoded: base64) else { throw invalid }
        let bytes = [UInt8](data)
        let integersEnd = 1 + 8 * keyCount
        guard bytes.count >= integersEnd + 8, bytes[0] == (textKey ? textKeyVersion : version) else { throw invalid }
        // Without a tie-breaker the integers end the body; with one, the
        // text's UTF-8 runs from them to the tag.
        let bodyEnd = bytes.count - 8
        guard textKey || bodyEnd == integersEnd else { throw invalid }
        let body = Array(bytes[..<bodyEnd])
        guard integer(bytes, at: bodyEnd) == tag(body, fingerprint: fingerprint) else { throw invalid }
        let integers = (0..<keyCount).map { Int64(bitPattern: integer(bytes, at: 1 + 8 * $0)) }
        guard textKey else { return (integers, nil) }
        // Ids never hold a NUL (which PostgreSQL's text cannot hold either).
        guard let text = String(bytes: bytes[integersEnd..<bodyEnd], encoding: .utf8), !text.utf8.contains(0) else { throw invalid }
        return (integers, text)
    }

    /// Room for two integers and a tie-breaker of about 300 bytes (ids are 36).
    private static let maximumTokenLength = 512

    /// FNV-1a (64-bit) of the list's name and filters, each ended by a zero
    /// byte so that `["ab", ""]` and `["a", "b"]` differ.
    static func fingerprint(list: String, filters: [String]) -> UInt64 {
        var hash = fnvOffset
        for part in [list] + filters {
            for byte in part.utf8 { hash = (hash ^ UInt64(byte)) &* fnvPrime }
            hash = (hash ^ 0) &* fnvPrime
        }
        return hash
    }

    /// The token's tag: FNV-1a over the fingerprint and the token's bytes,
    /// finished with a 64-bit mix so that one changed bit changes about
    /// half of the tag.
    private static func tag(_ bytes: [UInt8], fingerprint: UInt64) -> UInt64 {
        var hash = fnvOffset
        for byte in bigEndianBytes(fingerprint) + bytes { hash = (hash ^ UInt64(byte)) &* fnvPrime }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
    }

    private static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

    private static func bigEndianBytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    private static func integer(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(0) { ($0 << 8) | UInt64(bytes[offset + $1]) }
    }
}
