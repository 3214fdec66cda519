@testable import Gateway
import Hummingbird
import ServiceSupport
import Testing

/// `/docs` (Swagger UI) and `/redoc` (ReDoc) over the gateway's own
/// `/openapi.json`, their assets from a configurable place, and a
/// Content-Security-Policy that allows exactly that.
@Suite("Docs pages")
struct DocsPageTests {
    static let assets = try! DocsAssetsURL("http://127.0.0.1:9/swagger/")

    @Test func docsPageLoadsSwaggerUIFromTheConfiguredAssetsAndStartsOnTheOpenAPIDocument() async throws {
        try await withDeadGateway({ $0.docs.swaggerUIAssets = Self.assets }) { http, _ throws in
            let page = try await http.get("/docs")
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.body.contains("<script src=\"http://127.0.0.1:9/swagger/swagger-ui-bundle.js\"></script>"))
            #expect(page.body.contains("<link rel=\"stylesheet\" href=\"http://127.0.0.1:9/swagger/swagger-ui.css\">"))
            #expect(page.body.contains("<script src=\"/docs/swagger-init.js\"></script>"))

            let start = try await http.get("/docs/swagger-init.js")
            #expect(start.status == 200)
            #expect(start.header("Content-Type") == "text/javascript; charset=utf-8")
            #expect(start.body.contains("url: \"/openapi.json\""))
        }
    }

    @Test func redocPageRendersTheOpenAPIDocument() async throws {
        try await withDeadGateway({ $0.docs.redocAssets = try! DocsAssetsURL("https://assets.example/redoc") }) { http, _ throws in
            let page = try await http.get("/redoc")
            #expect(page.status == 200)
            #expect(page.body.contains("<redoc spec-url=\"/openapi.json\"></redoc>"))
            #expect(page.body.contains("<script src=\"https://assets.example/redoc/redoc.standalone.js\"></script>"))
        }
    }

    @Test func thePagesPolicyAllowsOnlyTheGatewayAndTheAssetsOrigin() async throws {
        try await withDeadGateway({ $0.docs.swaggerUIAssets = Self.assets }) { http, _ throws in
            let page = try await http.get("/docs")
            let policy = try #require(page.header("Content-Security-Policy"))
            let directives = Dictionary(uniqueKeysWithValues: policy.split(separator: ";").map { directive in
                let words = directive.split(separator: " ").map(String.init)
                return (words[0], Array(words.dropFirst()))
            })
            #expect(directives["default-src"] == ["'none'"])
            #expect(directives["script-src"] == ["'self'", "http://127.0.0.1:9"])
            #expect(directives["connect-src"] == ["'self'"])
            #expect(directives["frame-ancestors"] == ["'none'"])
            #expect(page.header("X-Content-Type-Options") == "nosniff")
        }
    }

    @Test func switchedOffTheDocsPagesAreNotFound() async throws {
        try await withDeadGateway({ $0.docs.enabled = false }) { http, _ throws in
            #expect(try await http.get("/docs").status == 404)
            #expect(try await http.get("/docs/swagger-init.js").status == 404)
            #expect(try await http.get("/redoc").status == 404)
            #expect(try await http.get("/openapi.json").status == 200)
        }
    }

    @Test(arguments: [
        "cdn.example/swagger",
        "javascript:alert(1)",
        "https://cdn.example/swagger\"><script>",
        "https://cdn.example/a b",
        "https:///nohost",
        "https://user@cdn.example/x",
    ])
    func anAssetsURLThatCouldBreakThePageIsRefused(_ text: String) {
        #expect(throws: DocsAssetsURL.Problem.self) { try DocsAssetsURL(text) }
    }

    @Test func theSettingsSwitchTheDocsAndMoveTheirAssets() throws {
        var environment = [
            "SHOP_SIGNING_KEY": String(repeating: "k", count: 40),
            "SHOP_TLS_CERT": "/etc/shop/tls/tls.crt", "SHOP_TLS_KEY": "/etc/shop/tls/tls.key", "SHOP_TLS_CA": "/etc/shop/tls/ca.crt",
        ]
        for service in GatewayHarness.serviceNames { environment["SHOP_\(service.uppercased())_ADDR"] = "127.0.0.1:7001" }
        environment["SHOP_GATEWAY_DOCS"] = "false"
        environment["SHOP_DOCS_ASSETS_URL"] = "http://127.0.0.1:8123/swagger-ui/"
        let configuration = try GatewayConfiguration.fromEnvironment(environment)
        #expect(configuration.docs.enabled == false)
        #expect(configuration.docs.swaggerUIAssets.base == "http://127.0.0.1:8123/swagger-ui")
        #expect(configuration.docs.redocAssets == .redocDefault)

        environment["SHOP_GATEWAY_DOCS"] = "perhaps"
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.fromEnvironment(environment) }
        environment["SHOP_GATEWAY_DOCS"] = "true"
        environment["SHOP_DOCS_ASSETS_URL"] = "ftp://x"
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.fromEnvironment(environment) }
    }
}
