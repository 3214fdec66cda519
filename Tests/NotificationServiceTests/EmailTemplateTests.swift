import Foundation
@testable import NotificationService
import ShopAPI
import ShopMail
import Testing

/// The Mustache templates as compiled into the binary, rendered through
/// the composer the service uses.
@Suite("Email templates")
struct EmailTemplateTests {
    let composer: EmailComposer

    init() throws {
        composer = EmailComposer(sender: try MailAddress("shop@example.com", name: "Shop"), templates: try EmailTemplates())
    }

    func notification(kind: String, data: [String: String]) -> Shop_Notification_V1_Notification {
        let message = NotificationRenderer.render(kind: kind, data: data)
        return .with {
            $0.id = "n-1"
            $0.kind = kind
            $0.subject = message.subject
            $0.body = message.body
            $0.createdAt = .init(date: Date())
        }
    }

    @Test("each order kind has its own HTML, naming the order", arguments: [
        ("order_confirmed", "Thank you for your order"),
        ("order_cancelled", "Your order is cancelled"),
        ("order_cancelled_out_of_stock", "product p-9 sold out"),
        ("order_shipped", "Your order has shipped"),
        ("order_delivered", "Your order has been delivered"),
    ])
    func kinds(kind: String, phrase: String) throws {
        let data = ["order_id": "o-42", "total": "1250", "product_id": "p-9"]
        let mail = try composer.compose(notification(kind: kind, data: data), data: data, email: "ada@example.com", name: "Ada")
        let html = try #require(mail.html)
        #expect(html.contains(phrase))
        #expect(html.contains("<strong>o-42</strong>"))
        #expect(html.contains("Hello Ada,"))
        #expect(mail.text.contains("Hello Ada,"))
        #expect(mail.text.contains("o-42"))
    }

    @Test("an unknown kind gets the generic email with the notification's body")
    func generic() throws {
        let mail = try composer.compose(notification(kind: "loyalty_points_added", data: [:]), data: [:], email: "ada@example.com", name: "")
        #expect(mail.html?.contains("loyalty_points_added") == true)
        #expect(mail.html?.contains("Hello there,") == true)
        #expect(mail.subject == "News about your account")
    }

    @Test("markup in a name or in the event's facts is escaped in the HTML part and left as it is in the text part")
    func escaping() throws {
        let data = ["order_id": "<img src=x onerror=alert(1)>"]
        let mail = try composer.compose(notification(kind: "order_confirmed", data: data), data: data, email: "eve@example.com", name: "<b>Eve</b>")
        let html = try #require(mail.html)
        #expect(!html.contains("<b>Eve</b>"))
        #expect(html.contains("&lt;b&gt;Eve&lt;/b&gt;"))
        #expect(!html.contains("<img"))
        #expect(mail.text.contains("Hello <b>Eve</b>,"))
    }
}
