import AsyncHTTPClient
import Foundation
import NIOCore
import ServiceSupport
import ServiceTesting
import Supervisor
import Testing

/// The whole system as `shop up` runs it (real processes), driven through
/// the gateway's REST API: an order's confirmation by email.
@Suite("Email from shop up", .serialized)
struct ShopUpEmailTests {
    static let name = "Zoë Ångström"

    @Test("an order through the gateway sends exactly one email to the user's address, with the order id and total")
    func orderSendsOneEmail() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let server = try await SMTPServerFixture.start(maildir: folder.path + "/mail")
        let system = try await ShopUp.start(dataDirectory: folder.path + "/data", settings: [
            "SHOP_SMTP_URL": "smtp://127.0.0.1:\(server.port)",
            "SHOP_MAIL_FROM": "Shop <shop@example.com>",
        ])
        do {
            let (email, token, order) = try await system.placeOrder(name: Self.name)
            let messages = try await eventually { server.messages() } until: { !$0.isEmpty }
            try #require(messages.count == 1)
            let mail = try await ParsedMail.parse(messages[0])
            #expect(mail.defects.isEmpty)
            #expect(mail.to_addresses == [email])
            #expect(mail.to_names == [Self.name])
            #expect(mail.subject == "\(Self.name), your order \(order.id) is confirmed")
            #expect(mail.text?.contains(order.id) == true)
            #expect(mail.text?.contains(order.total) == true)
            #expect(mail.html?.contains(order.id) == true)

            let notifications = try await eventually {
                try await system.json("GET", "/api/notifications/", token: token)
            } until: { reply in
                ((reply.body as? [[String: Any]])?.first?["deliveries"] as? [[String: Any]])?.first?["state"] as? String == "sent"
            }
            let deliveries = (notifications.body as? [[String: Any]])?.first?["deliveries"] as? [[String: Any]]
            #expect(deliveries?.first?["channel"] as? String == "email")
            #expect(deliveries?.first?["state"] as? String == "sent")
            #expect((deliveries?.first?["receipt"] as? String)?.contains("queued as") == true)
            try await Task.sleep(for: .seconds(1))
            #expect(server.messages().count == 1)
        } catch {
            await system.stop()
            await server.stop()
            throw error
        }
        await system.stop()
        await server.stop()
    }

    @Test("without SHOP_SMTP_URL, dev mode writes the confirmation as an .eml file under the data folder and prints its path")
    func devModeWritesEML() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = folder.path + "/data"
        let system = try await ShopUp.start(dataDirectory: data, settings: [:])
        do {
            let (email, _, order) = try await system.placeOrder(name: Self.name)
            let line = await system.output.waitFor(timeout: .seconds(30)) { $0.contains("email written to") }
            let path = try #require(line.flatMap { $0.range(of: "email written to ") }.map { line![$0.upperBound...].prefix { $0 != " " } }).description
            #expect(path.hasPrefix(data + "/mail/"))
            #expect(path.hasSuffix(".eml"))
            let mail = try await ParsedMail.parse(path)
            #expect(mail.to_addresses == [email])
            #expect(mail.text?.contains(order.id) == true)
            #expect(mail.text?.contains(order.total) == true)
            #expect(system.output.lines.filter { $0.contains("email written to") }.count == 1)
        } catch {
            await system.stop()
            throw error
        }
        await system.stop()
    }
}

/// A `shop up` child process on free ports, and a JSON client for its gateway.
final class ShopUp: Sendable {
    let child: ChildProcess
    let output: ProcessOutput
    let gatewayPort: Int
    private let http: HTTPClient

    private init(child: ChildProcess, output: ProcessOutput, gatewayPort: Int) {
        self.child = child
        self.output = output
        self.gatewayPort = gatewayPort
        http = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    static func start(dataDirectory: String, settings: [String: String]) async throws -> ShopUp {
        let base = try freeBasePort()
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SHOP_") }
        environment["SHOP_PASSWORD_ROUNDS"] = "1"
        environment["SHOP_TEST_ONLY_ALLOW_WEAK_PASSWORD_ROUNDS"] = "true"
        environment["SHOP_LOG_LEVEL"] = "info"
        for (key, value) in settings { environment[key] = value }
        let output = ProcessOutput()
        let child = try ChildProcess.spawn(
            executable: ShopProcess.executable.path,
            arguments: ["up", "--data", dataDirectory, "--port", String(base + 5), "--base-port", String(base)],
            environment: environment,
            onLine: output.append
        )
        let system = ShopUp(child: child, output: output, gatewayPort: base + 5)
        guard await output.waitFor(timeout: .seconds(120), while: { !child.hasExited }, { $0.contains("| ready: ") }) != nil else {
            await system.stop()
            throw HarnessFailure("shop up did not say ready:\n\(output.lines.suffix(40).joined(separator: "\n"))")
        }
        return system
    }

    /// Six consecutive free ports (five services, the gateway) between the
    /// range the supervisor's `shop up` tests probe (20000-32000) and the
    /// kernel's ephemeral ports (32768 and up).
    private static func freeBasePort() throws -> Int {
        var base = 32_100 + 6 * Int(getpid() % 100)
        for _ in 0..<110 {
            if (base..<(base + 6)).allSatisfy({ PortProbe.problem(host: "127.0.0.1", port: $0) == nil }) { return base }
            base += 6
            if base > 32_754 { base = 32_100 }
        }
        throw HarnessFailure("no six free ports")
    }

    func stop() async {
        _ = await child.stop(grace: .seconds(30))
        try? await http.shutdown()
    }

    struct JSONReply: @unchecked Sendable {
        let status: Int
        let body: Any?
    }

    func json(_ method: String, _ path: String, token: String? = nil, body: String? = nil) async throws -> JSONReply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(gatewayPort)\(path)")
        request.method = .RAW(value: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        let data = Data(bytes.readableBytesView)
        return JSONReply(status: Int(response.status.code), body: data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data))
    }

    private func field(_ reply: JSONReply, _ key: String) throws -> String {
        guard let object = reply.body as? [String: Any], let value = object[key] else {
            throw HarnessFailure("no \(key) in \(reply.status) \(String(describing: reply.body))")
        }
        return "\(value)"
    }

    /// Registers `name`, stocks a product as the development admin and
    /// orders three of it as the new user: the user's email and token, the
    /// order's id and total as the email shows it.
    func placeOrder(name: String) async throws -> (email: String, token: String, order: (id: String, total: String)) {
        let email = "zoe-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let password = "correct horse battery"
        let registered = try await json("POST", "/api/users/", body: #"{"email":"\#(email)","full_name":"\#(name)","password":"\#(password)"}"#)
        guard registered.status == 201 else { throw HarnessFailure("register: \(registered.status) \(String(describing: registered.body))") }
        let admin = try field(try await json("POST", "/api/auth/login", body: #"{"email":"admin@shop.local","password":"dev-admin-password"}"#), "access_token")
        let product = try field(try await json("POST", "/api/products/", token: admin, body: #"{"name":"Kettle","description":"A fine kettle","price":19.99,"category":"kitchen"}"#), "id")
        let stocked = try await json("PUT", "/api/inventory/\(product)", token: admin, body: #"{"available":10}"#)
        guard stocked.status == 200 else { throw HarnessFailure("stock: \(stocked.status)") }
        let token = try field(try await json("POST", "/api/auth/login", body: #"{"email":"\#(email)","password":"\#(password)"}"#), "access_token")
        let order = try await json("POST", "/api/orders/", token: token, body: #"{"items":[{"product_id":"\#(product)","quantity":3}]}"#)
        guard order.status == 201 else { throw HarnessFailure("order: \(order.status) \(String(describing: order.body))") }
        return (email, token, (try field(order, "id"), "59.97"))
    }
}
