import ShopStorage

extension PageCursor {
    /// The query of one newest-first page of `table`, keyed on
    /// `(created_at, id)` (columns both backends have; `id` breaks ties
    /// between rows of the same microsecond), only `userID`'s rows when
    /// given. It reads one row more than the page so the caller can tell
    /// whether more follow; the page starts below the previous page's last
    /// key, so rows written while a client pages never repeat or hide one.
    ///
    /// - Parameters:
    ///   - columns: the select list; with `table`, a name from the store's
    ///     own code, never from a request (they are spliced into the SQL).
    ///   - table: a table with `created_at`, `id` and `user_id` columns.
    public func newestFirstQuery(columns: String, table: String, userID: String?) -> (sql: String, arguments: [any SQLBindable]) {
        var conditions: [String] = []
        var arguments: [any SQLBindable] = []
        if let userID {
            conditions.append("user_id = ?")
            arguments.append(userID)
        }
        if let createdAt = after?.first, let id = afterText {
            conditions.append("(created_at, id) < (?, ?)")
            arguments += [createdAt, id]
        }
        arguments += [size + 1, skip]
        let filter = conditions.isEmpty ? "" : "WHERE \(conditions.joined(separator: " AND ")) "
        return ("SELECT \(columns) FROM \(table) \(filter)ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", arguments)
    }
}
