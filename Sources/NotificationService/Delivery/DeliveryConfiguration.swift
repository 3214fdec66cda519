import Foundation
import FrameRPC
import Logging
import NIOCore
import NIOSSL
import ServiceSupport
import ShopAuth
import ShopMail

/// Which channels notifications go out through, read from the settings:
///
/// | setting | meaning |
/// | --- | --- |
/// | `SHOP_SMTP_URL` | the mail relay (``ShopMail/SMTPRelay``); unset: no email, except in dev mode |
/// | `SHOP_MAIL_FROM` | the sender, `shop@example.com` or `Shop <shop@example.com>`; required with `SHOP_SMTP_URL` outside dev mode |
/// | `SHOP_SMTP_CA` | a PEM file of roots to trust for the relay's certificate instead of the system's |
/// | `SHOP_NOTIFY_WEBHOOK_URL` | an http(s) URL that receives each notification as a signed JSON POST |
/// | `SHOP_NOTIFY_WEBHOOK_SECRET` | the HMAC key of the webhook's signature; required with the URL outside dev mode |
/// | `SHOP_NOTIFY_RETRY_BASE_MS`, `SHOP_NOTIFY_RETRY_MAX_MS` | the first and the longest wait between attempts (1 s, 5 min) |
/// | `SHOP_NOTIFY_MAX_ATTEMPTS` | attempts before a delivery is given up (10) |
/// | `SHOP_NOTIFY_TIMEOUT_MS` | the limit of each SMTP step and of each webhook request (10 s) |
///
/// In `shop up`'s dev mode without `SHOP_SMTP_URL`, email is written as
/// `.eml` files to `<data>/mail`, and the webhook (when its URL is set)
/// may use the public ``developmentWebhookSecret``; outside dev mode that
/// secret is refused like the development signing key.
struct DeliveryConfiguration: Sendable {
    enum Setting {
        static let smtpURL = "SHOP_SMTP_URL"
        static let mailFrom = "SHOP_MAIL_FROM"
        static let smtpCA = "SHOP_SMTP_CA"
        static let webhookURL = "SHOP_NOTIFY_WEBHOOK_URL"
        static let webhookSecret = "SHOP_NOTIFY_WEBHOOK_SECRET"
        static let retryBase = "SHOP_NOTIFY_RETRY_BASE_MS"
        static let retryMaximum = "SHOP_NOTIFY_RETRY_MAX_MS"
        static let maximumAttempts = "SHOP_NOTIFY_MAX_ATTEMPTS"
        static let timeout = "SHOP_NOTIFY_TIMEOUT_MS"
    }

    /// Public (it is in this repository): dev mode only.
    static let developmentWebhookSecret = "shop-dev-mode-webhook-secret-NOT-FOR-PRODUCTION"
    static let minimumSecretBytes = 32

    struct Email: Sendable {
        let composer: EmailComposer
        let channel: EmailChannel
    }

    struct Webhook: Sendable {
        let url: String
        let channel: WebhookChannel
    }

    var email: Email?
    var webhook: Webhook?
    var backoff: RPCClient.Backoff
    var maximumAttempts: Int
    var timeout: Duration

    var channels: [any DeliveryChannel] {
        [email?.channel as (any DeliveryChannel)?, webhook?.channel].compactMap { $0 }
    }

    /// - Throws: ``ServiceSupport/ConfigurationError`` naming the setting
    ///   that is wrong (never echoing a secret).
    init(environment: ServiceEnvironment, logger: Logger) throws {
        let devMode = DevelopmentSecrets.isDevMode(environment.settings)
        let timeoutMS = try Self.integer(environment, Setting.timeout, default: 10_000, range: 100...600_000)
        timeout = .milliseconds(timeoutMS)
        backoff = RPCClient.Backoff(
            initial: .milliseconds(try Self.integer(environment, Setting.retryBase, default: 1_000, range: 1...3_600_000)),
            maximum: .milliseconds(try Self.integer(environment, Setting.retryMaximum, default: 300_000, range: 1...86_400_000))
        )
        maximumAttempts = try Self.integer(environment, Setting.maximumAttempts, default: 10, range: 1...1_000)

        let templates: EmailTemplates
        do {
            templates = try EmailTemplates()
        } catch {
            throw ConfigurationError("the email templates do not parse: \(error)")
        }
        if let url = environment.setting(Setting.smtpURL) {
            let relay: SMTPRelay
            do {
                relay = try SMTPRelay(url: url)
            } catch {
                throw ConfigurationError(error.description)
            }
            guard let from = environment.setting(Setting.mailFrom) ?? (devMode ? "shop@localhost" : nil) else {
                throw ConfigurationError("\(Setting.mailFrom) is required with \(Setting.smtpURL): the sender address, e.g. shop@example.com or 'Shop <shop@example.com>'")
            }
            let sender = try Self.sender(from)
            var tls = TLSConfiguration.makeClientConfiguration()
            if let ca = environment.setting(Setting.smtpCA) {
                guard FileManager.default.isReadableFile(atPath: ca) else {
                    throw ConfigurationError("\(Setting.smtpCA): cannot read \(ca)")
                }
                tls.trustRoots = .file(ca)
            }
            let client: SMTPClient
            do {
                client = try SMTPClient(configuration: SMTPClient.Configuration(
                    host: relay.host, port: relay.port, security: relay.security, credentials: relay.credentials,
                    tls: tls, clientName: ProcessInfo.processInfo.hostName,
                    connectTimeout: .milliseconds(Int64(timeoutMS)), replyTimeout: .milliseconds(Int64(timeoutMS))
                ))
            } catch {
                throw ConfigurationError("\(Setting.smtpURL): cannot set up TLS: \(error)")
            }
            email = Email(composer: EmailComposer(sender: sender, templates: templates), channel: EmailChannel(sender: sender, mailer: SMTPMailer(client: client)))
        } else if devMode {
            let sender = try Self.sender(environment.setting(Setting.mailFrom) ?? "shop@localhost")
            let folder = URL(fileURLWithPath: environment.dataDirectory).appendingPathComponent("mail").path
            email = Email(
                composer: EmailComposer(sender: sender, templates: templates),
                channel: EmailChannel(sender: sender, mailer: EMLFolderMailer(folder: folder, logger: logger))
            )
        } else {
            email = nil
        }

        if let url = environment.setting(Setting.webhookURL) {
            guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
                  components.host?.isEmpty == false else {
                throw ConfigurationError("\(Setting.webhookURL) must be an http:// or https:// URL")
            }
            let secret = environment.setting(Setting.webhookSecret) ?? (devMode ? Self.developmentWebhookSecret : nil)
            guard let secret else {
                throw ConfigurationError("\(Setting.webhookSecret) is required with \(Setting.webhookURL): the HMAC-SHA256 key of the Shop-Signature header, at least \(Self.minimumSecretBytes) random bytes")
            }
            if secret == Self.developmentWebhookSecret, !devMode {
                throw ConfigurationError("\(Setting.webhookSecret) is the public development secret; outside dev mode set one of your own (at least \(Self.minimumSecretBytes) random bytes)")
            }
            guard secret.utf8.count >= Self.minimumSecretBytes else {
                throw ConfigurationError("\(Setting.webhookSecret) is too short: \(secret.utf8.count) bytes, at least \(Self.minimumSecretBytes) needed")
            }
            webhook = Webhook(url: url, channel: WebhookChannel(secret: Array(secret.utf8), timeout: .milliseconds(Int64(timeoutMS))))
        } else {
            webhook = nil
        }
    }

    /// `shop@example.com` or `Shop <shop@example.com>`.
    static func sender(_ text: String) throws -> MailAddress {
        var address = text.trimmingCharacters(in: .whitespaces)
        var name: String?
        if let open = address.lastIndex(of: "<"), address.hasSuffix(">") {
            name = String(address[..<open]).trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            address = String(address[address.index(after: open)..<address.index(before: address.endIndex)])
        }
        do {
            return try MailAddress(address, name: name)
        } catch {
            throw ConfigurationError("\(Setting.mailFrom) is not a usable address: '\(text.prefix(100))'")
        }
    }

    private static func integer(_ environment: ServiceEnvironment, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = environment.setting(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError("\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), not '\(text.prefix(32))'")
        }
        return number
    }
}
