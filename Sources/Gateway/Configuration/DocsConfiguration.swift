/// The interactive API documentation the gateway serves: Swagger UI at
/// `/docs` and ReDoc at `/redoc`, both over the gateway's own
/// `/openapi.json`, as FastAPI serves them.
///
/// The pages are small HTML documents of ours; the viewers' scripts and
/// styles come from `swaggerUIAssets` and `redocAssets` (a CDN by default,
/// a local copy for air-gapped hosts). The pages' Content-Security-Policy
/// allows exactly those origins and the gateway itself.
public struct DocsConfiguration: Sendable, Equatable {
    /// Whether `/docs` and `/redoc` are served (404 when not).
    public var enabled: Bool
    /// The base URL of the Swagger UI distribution: `swagger-ui-bundle.js`
    /// and `swagger-ui.css` are loaded from under it.
    public var swaggerUIAssets: DocsAssetsURL
    /// The base URL of ReDoc's bundles: `redoc.standalone.js` is loaded from
    /// under it.
    public var redocAssets: DocsAssetsURL

    public init(
        enabled: Bool = true,
        swaggerUIAssets: DocsAssetsURL = .swaggerUIDefault,
        redocAssets: DocsAssetsURL = .redocDefault
    ) {
        self.enabled = enabled
        self.swaggerUIAssets = swaggerUIAssets
        self.redocAssets = redocAssets
    }
}

/// An absolute `http` or `https` base URL for documentation assets, checked
/// when it is set: it is written into HTML and into a Content-Security-Policy,
/// so it may hold no characters that could break out of either.
public struct DocsAssetsURL: Sendable, Equatable, CustomStringConvertible {
    /// Without a trailing slash.
    public let base: String
    /// `scheme://host[:port]`, for the Content-Security-Policy.
    public let origin: String

    public static let swaggerUIDefault = try! DocsAssetsURL("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5")
    public static let redocDefault = try! DocsAssetsURL("https://cdn.jsdelivr.net/npm/redoc@2/bundles")

    /// - Throws: ``DocsAssetsURL/Problem`` when `text` is not an absolute
    ///   `http(s)://host[:port][/path]` URL of plain characters.
    public init(_ text: String) throws {
        var base = Substring(text)
        while base.last == "/" { base = base.dropLast() }
        let scheme: String
        if base.hasPrefix("https://") {
            scheme = "https://"
        } else if base.hasPrefix("http://") {
            scheme = "http://"
        } else {
            throw Problem(description: "'\(text.prefix(80))' must start with http:// or https://")
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/:@%+")
        guard base.allSatisfy({ allowed.contains($0) }) else {
            throw Problem(description: "'\(text.prefix(80))' holds characters a URL of assets does not need (quotes, spaces, ';', '<', '?', '#', ...)")
        }
        let rest = base.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" }
        guard !authority.isEmpty, !authority.contains("@") else {
            throw Problem(description: "'\(text.prefix(80))' names no host")
        }
        self.base = String(base)
        self.origin = scheme + authority
    }

    public var description: String { base }

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }
}
