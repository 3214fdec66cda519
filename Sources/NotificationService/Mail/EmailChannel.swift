import Foundation
import Logging
import ShopMail
import Synchronization

/// Where composed emails go: an SMTP relay, or (in `shop up`'s dev mode
/// without one) `.eml` files in a folder.
protocol Mailer: Sendable {
    /// Sends `message`; returns the receipt.
    func send(_ message: [UInt8], from sender: String, to recipient: String, reference: String) async throws(DeliveryFailure) -> String
}

/// The email channel: sends a delivery's stored message through its
/// ``Mailer``. The envelope sender is ``sender``'s address; the envelope
/// recipient is the delivery's.
struct EmailChannel: DeliveryChannel {
    let name = DeliveryChannelName.email
    let sender: MailAddress
    let mailer: any Mailer

    func send(_ delivery: StoredDelivery) async throws(DeliveryFailure) -> String {
        try await mailer.send(Array(delivery.content), from: sender.address, to: delivery.recipient, reference: delivery.notificationID)
    }

    func shutdown() async {}
}

/// Mail through an SMTP server (``ShopMail/SMTPClient``); a 5xx reply is a
/// permanent failure, anything else is retried.
struct SMTPMailer: Mailer {
    let client: SMTPClient

    func send(_ message: [UInt8], from sender: String, to recipient: String, reference: String) async throws(DeliveryFailure) -> String {
        do {
            return try await client.send(message, from: sender, to: [recipient])
        } catch {
            throw DeliveryFailure(reason: error.description, permanent: error.isPermanent)
        }
    }
}

/// Dev mode without `SHOP_SMTP_URL`: each email becomes
/// `<folder>/<notification id>.eml`, a file any mail program opens. The
/// first one written is announced in the log with its path (once per
/// process), so a newcomer finds the order confirmation they just caused.
final class EMLFolderMailer: Mailer, Sendable {
    let folder: String
    private let logger: Logger
    private let announced = Mutex(false)

    init(folder: String, logger: Logger) {
        self.folder = folder
        self.logger = logger
    }

    func send(_ message: [UInt8], from sender: String, to recipient: String, reference: String) async throws(DeliveryFailure) -> String {
        let safeName = reference.filter { $0.isLetter || $0.isNumber || $0 == "-" }
        let path = URL(fileURLWithPath: folder).appendingPathComponent("\(safeName).eml").path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(message).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DeliveryFailure(reason: "cannot write \(path): \(error)", permanent: false)
        }
        let first = announced.withLock { announced in
            defer { announced = true }
            return !announced
        }
        if first {
            logger.notice("dev mode: email written to \(path) (SHOP_SMTP_URL is not set; every email goes to \(folder))")
        }
        return "written to \(path)"
    }
}
