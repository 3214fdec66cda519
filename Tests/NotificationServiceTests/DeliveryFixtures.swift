import Foundation
import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Supervisor

/// The Python scripts beside this file.
enum Fixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static var smtpServer: String { folder.appendingPathComponent("smtp_server.py").path }
    static var parseMail: String { folder.appendingPathComponent("parse_mail.py").path }

    /// Fast retries, so the retry tests take a second rather than minutes.
    static let fastRetries = [
        "SHOP_NOTIFY_RETRY_BASE_MS": "50",
        "SHOP_NOTIFY_RETRY_MAX_MS": "200",
        "SHOP_NOTIFY_TIMEOUT_MS": "5000",
    ]
}

/// A real SMTP server (aiosmtpd, `Fixtures/smtp_server.py`) on a port of
/// its own, saving what it accepts to a folder.
final class SMTPServerFixture: Sendable {
    let port: Int
    let maildir: String
    private let child: ChildProcess
    let output: ProcessOutput

    struct Options: Sendable {
        var startTLS = false
        var implicitTLS = false
        var auth: String?
        var excludedMechanisms: [String] = []
        var rejectCode = 0
        var rejectCount = 0
    }

    /// The test CA's certificate for `localhost` (any TestPKI name carries it).
    static var certificate: (cert: String, key: String) {
        _ = TestPKI.shared.server(as: "smtp")
        return (TestPKI.shared.certificates.certificatePath(for: "smtp"), TestPKI.shared.certificates.keyPath(for: "smtp"))
    }

    static var caPath: String { TestPKI.shared.certificates.caCertificatePath }

    private init(port: Int, maildir: String, child: ChildProcess, output: ProcessOutput) {
        self.port = port
        self.maildir = maildir
        self.child = child
        self.output = output
    }

    /// Starts the server on `port` (a new one unless given) and waits for
    /// its `ready` line.
    static func start(_ options: Options = Options(), port: Int? = nil, maildir: String) async throws -> SMTPServerFixture {
        let port = try port ?? restartablePort()
        var arguments = [smtpScript, "--port", String(port), "--maildir", maildir]
        if options.startTLS || options.implicitTLS {
            arguments += ["--cert", certificate.cert, "--key", certificate.key]
            arguments.append(options.implicitTLS ? "--implicit-tls" : "--starttls")
        }
        if let auth = options.auth { arguments += ["--auth", auth] }
        for mechanism in options.excludedMechanisms { arguments += ["--exclude-mechanism", mechanism] }
        if options.rejectCount > 0 {
            arguments += ["--reject-code", String(options.rejectCode), "--reject-count", String(options.rejectCount)]
        }
        let output = ProcessOutput()
        let child = try ChildProcess.spawn(executable: "/usr/bin/env", arguments: ["python3"] + arguments, environment: ProcessInfo.processInfo.environment, onLine: output.append)
        let server = SMTPServerFixture(port: port, maildir: maildir, child: child, output: output)
        guard await output.waitFor(timeout: .seconds(30), while: { !child.hasExited }, { $0.hasPrefix("ready ") }) != nil else {
            await server.stop()
            throw HarnessFailure("the SMTP server did not start:\n\(output.lines.joined(separator: "\n"))")
        }
        return server
    }

    private static var smtpScript: String { Fixtures.smtpServer }

    func stop() async {
        _ = await child.stop(grace: .seconds(5))
    }

    /// The messages saved so far, oldest first.
    func messages() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []
        return names.filter { $0.hasSuffix(".eml") }
            .sorted { Int($0.dropLast(4)) ?? 0 < Int($1.dropLast(4)) ?? 0 }
            .map { "\(maildir)/\($0)" }
    }

    /// The envelope saved beside `message`.
    func envelope(of message: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: String(message.dropLast(4)) + ".json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }
}

/// A delivered message as Python's `email` package reads it.
struct ParsedMail: Decodable {
    let subject: String
    let from: String
    let to_addresses: [String]
    let to_names: [String]
    let message_id: String
    let has_date: Bool
    let content_type: String
    let text: String?
    let html: String?
    let defects: [String]
    let bare_newlines: Bool
    let longest_line: Int

    static func parse(_ path: String) async throws -> ParsedMail {
        let output = ProcessOutput()
        let child = try ChildProcess.spawn(executable: "/usr/bin/env", arguments: ["python3", Fixtures.parseMail, path], environment: ProcessInfo.processInfo.environment, onLine: output.append)
        _ = await child.termination()
        guard let line = await output.waitFor(timeout: .seconds(10), { $0.hasPrefix("{") }) else {
            throw HarnessFailure("parse_mail.py said:\n\(output.lines.joined(separator: "\n"))")
        }
        return try JSONDecoder().decode(ParsedMail.self, from: Data(line.utf8))
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `read` until `done` holds (generous: only hangs fail).
func eventually<T: Sendable>(
    timeout: Duration = .seconds(30),
    _ read: () async throws -> T,
    until done: (T) -> Bool
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    var value = try await read()
    while !done(value) {
        guard ContinuousClock.now < deadline else { return value }
        try await Task.sleep(for: .milliseconds(50))
        value = try await read()
    }
    return value
}

extension NotificationTestClient {
    /// The notification `id`'s deliveries, as ListNotifications shows them.
    func deliveries(of id: String, user: String) async throws -> [Shop_Notification_V1_Delivery] {
        let listed = try await listNotifications(listRequest(user: user), options: try await asAdmin())
        return listed.notifications.first { $0.id == id }?.deliveries ?? []
    }

    /// Polls until the notification's `channel` delivery is no longer pending.
    func settled(_ id: String, user: String, channel: String, timeout: Duration = .seconds(30)) async throws -> Shop_Notification_V1_Delivery? {
        let deliveries = try await eventually(timeout: timeout) {
            try await self.deliveries(of: id, user: user)
        } until: { deliveries in
            deliveries.contains { $0.channel == channel && $0.state != "pending" }
        }
        return deliveries.first { $0.channel == channel }
    }
}
