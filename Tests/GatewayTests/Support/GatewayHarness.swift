import Foundation
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import Logging
import RESTTranscoding
import ServiceSupport
import ServiceTesting
import ShopAPI

/// The gateway over real HTTP for the tests: built with
/// ``makeGateway(configuration:)`` (so a test can look at its upstreams'
/// breakers) and served live on an ephemeral port.
enum GatewayHarness {
    /// The five services' short names.
    static let serviceNames = ["user", "product", "inventory", "order", "notification"]

    /// A configuration with quiet logs and `upstreams`.
    static func configuration(
        upstreams: [String: ServiceEndpoint],
        _ adjust: (inout GatewayConfiguration) -> Void = { _ in }
    ) -> GatewayConfiguration {
        var logger = Logger(label: "gateway-tests")
        logger.logLevel = .warning
        var configuration = GatewayConfiguration(signingKey: Tokens.signingKey, upstreams: upstreams, port: 0, logger: logger, tls: TestPKI.shared.server(as: "gateway"))
        adjust(&configuration)
        return configuration
    }

    /// Every service at an address where connections are refused.
    static func deadUpstreams() throws -> [String: ServiceEndpoint] {
        let port = try RawSocket.refusingPort()
        return Dictionary(uniqueKeysWithValues: serviceNames.map { ($0, ServiceEndpoint(host: "127.0.0.1", port: port)) })
    }
}

/// Runs the gateway for `configuration` during `body`.
func withGateway<Result: Sendable>(
    _ configuration: GatewayConfiguration,
    _ body: @escaping @Sendable (HTTP, UpstreamDirectory) async throws -> Result
) async throws -> Result {
    let (application, upstreams) = try makeGateway(configuration: configuration)
    return try await application.test(.live) { client in
        try await body(HTTP(client: client), upstreams)
    }
}

/// Runs a gateway whose upstreams all refuse connections: for everything
/// the gateway decides on its own.
func withDeadGateway<Result: Sendable>(
    _ adjust: (inout GatewayConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (HTTP, UpstreamDirectory) async throws -> Result
) async throws -> Result {
    try await withGateway(GatewayHarness.configuration(upstreams: try GatewayHarness.deadUpstreams(), adjust), body)
}

/// A JSON-speaking view of the HummingbirdTesting client.
struct HTTP: Sendable {
    let client: any TestClientProtocol

    var port: Int { client.port ?? 0 }

    /// Sends a request; `json` is the raw body text (sent as-is, so tests
    /// can send malformed JSON).
    @discardableResult
    func request(
        _ method: HTTPRequest.Method,
        _ path: String,
        token: String? = nil,
        json: String? = nil,
        body: [UInt8]? = nil,
        headers: [String: String] = [:]
    ) async throws -> Reply {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        if json != nil || body != nil { fields[.contentType] = "application/json" }
        for (name, value) in headers { fields[HTTPFields.Element.Name(name)!] = value }
        let bytes = body ?? json.map { Array($0.utf8) }
        let response = try await client.executeRequest(
            uri: path,
            method: method,
            headers: fields,
            body: bytes.map { ByteBuffer(bytes: $0) }
        )
        var reply = Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: response.body))
        reply.bytes = Array(response.body.readableBytesView)
        return reply
    }

    func get(_ path: String, token: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        try await request(.get, path, token: token, headers: headers)
    }

    func post(_ path: String, token: String? = nil, json: String, headers: [String: String] = [:]) async throws -> Reply {
        try await request(.post, path, token: token, json: json, headers: headers)
    }

    func put(_ path: String, token: String? = nil, json: String) async throws -> Reply {
        try await request(.put, path, token: token, json: json)
    }

    func delete(_ path: String, token: String? = nil) async throws -> Reply {
        try await request(.delete, path, token: token)
    }
}

/// A response, with its body read as JSON.
struct Reply: Sendable, CustomStringConvertible {
    let status: Int
    let headers: HTTPFields
    let body: String
    /// The body as received, for bodies that are not text (compressed ones).
    var bytes: [UInt8] = []

    func header(_ name: String) -> String? {
        headers[HTTPFields.Element.Name(name)!]
    }

    /// The body as JSON (`.null` when it is not JSON).
    var json: JSONValue {
        (try? JSONParser.parse(Array(body.utf8), limits: .trusted)) ?? .null
    }

    /// A top-level string member.
    func string(_ key: String) -> String? {
        if case .string(let value)? = json[key] { return value }
        return nil
    }

    /// A top-level number member, as its text.
    func number(_ key: String) -> String? {
        if case .number(let value)? = json[key] { return value }
        return nil
    }

    /// The body's items when it is an array.
    var items: [JSONValue] {
        if case .array(let values) = json { return values }
        return []
    }

    /// The error code of an API error body.
    var code: String? { string("code") }

    var description: String { "\(status) \(body.prefix(500))" }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var numberText: String? {
        if case .number(let value) = self { return value }
        return nil
    }
}
