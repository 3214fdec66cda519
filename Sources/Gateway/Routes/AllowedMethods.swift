/// Which methods each path of the gateway takes, for `Allow` headers: the
/// route table's templates (`/api/users/{id}`) and the gateway's own paths.
/// A path matches a template segment by segment, a variable matching any
/// one non-empty segment; a trailing slash does not matter, as it does not
/// to the router.
struct AllowedMethods: Sendable {
    private struct Template: Sendable {
        let segments: [Substring]
        let methods: [String]
        var literals: Int { segments.filter { !$0.hasPrefix("{") }.count }
    }

    private let templates: [Template]

    /// Methods in a fixed order, so `Allow` is the same on every answer.
    private static let order = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]

    /// `routes`: (path template, method name) pairs.
    init(_ routes: [(path: String, method: String)]) {
        var byPath: [String: Set<String>] = [:]
        var paths: [String] = []
        for route in routes {
            let key = Self.normalized(route.path)
            if byPath[key] == nil { paths.append(key) }
            byPath[key, default: []].insert(route.method)
            // Every GET path answers HEAD too (the router's autoGenerateHeadEndpoints).
            if route.method == "GET" { byPath[key, default: []].insert("HEAD") }
        }
        templates = paths.map { path in
            let methods = byPath[path]!
            return Template(
                segments: Self.segments(path),
                methods: Self.order.filter { methods.contains($0) } + methods.subtracting(Self.order).sorted()
            )
        }
    }

    /// The methods `path` takes, in ``order``; empty when no template matches.
    func allowed(forPath path: String) -> [String] {
        let segments = Self.segments(Self.normalized(path))
        // The router prefers a literal segment to a variable, so
        // `/api/users/me` is that route's alone, not `/api/users/{id}`'s:
        // only the matching templates with the most literal segments count.
        let matching = templates.filter { Self.matches(segments, $0.segments) }
        let mostLiteral = matching.map(\.literals).max() ?? 0
        var allowed: [String] = []
        for template in matching where template.literals == mostLiteral {
            for method in template.methods where !allowed.contains(method) { allowed.append(method) }
        }
        return Self.order.filter { allowed.contains($0) } + allowed.filter { !Self.order.contains($0) }
    }

    private static func normalized(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0 }
    }

    private static func matches(_ path: [Substring], _ template: [Substring]) -> Bool {
        guard path.count == template.count else { return false }
        for (segment, pattern) in zip(path, template) {
            if pattern.hasPrefix("{") {
                guard !segment.isEmpty else { return false }
            } else if segment != pattern {
                return false
            }
        }
        return true
    }
}
