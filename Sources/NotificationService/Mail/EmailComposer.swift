import Foundation
import ShopAPI
import ShopMail

/// Turns a notification into the email a user gets: From the configured
/// sender, To the user (with their name), the notification's subject
/// addressed to them by name when it is known ("Zoë, your order … is
/// confirmed": a mail client lists it among others), a
/// text and an HTML part from ``EmailTemplates``, Date its creation time
/// and Message-ID `<notification id>@<sender's domain>` (the same on every
/// retry, so a receiver can tell a repeat).
struct EmailComposer: Sendable {
    let sender: MailAddress
    let templates: EmailTemplates

    /// - Throws: ``ShopMail/SMTPError/invalidAddress(_:)`` for an address
    ///   that cannot be mailed.
    func compose(_ notification: Shop_Notification_V1_Notification, data: [String: String], email: String, name: String) throws -> MailMessage {
        let recipient = try MailAddress(email, name: name)
        var context = data
        context["name"] = recipient.name ?? "there"
        context["subject"] = notification.subject
        context["body"] = notification.body
        context["kind"] = notification.kind
        context["total"] = data["total"].flatMap(NotificationRenderer.formatCents)
        return MailMessage(
            from: sender,
            to: [recipient],
            subject: Self.subject(notification.subject, name: recipient.name),
            text: templates.text(context: context),
            html: templates.html(kind: notification.kind, context: context),
            date: notification.createdAt.date,
            messageID: "\(notification.id)@\(sender.domain)"
        )
    }

    /// `subject`, after `name, ` when there is a name (its first letter
    /// lower-cased then).
    static func subject(_ subject: String, name: String?) -> String {
        guard let name, let first = subject.first else { return subject }
        return "\(name), \(first.lowercased())\(subject.dropFirst())"
    }
}
