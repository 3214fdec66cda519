/// Turns an event (`kind` plus its facts in `data`) into the subject and body
/// a user reads.
///
/// Known kinds name what happened to which order; money in `data` is integer
/// cents (as everywhere inside the system) and is shown with two decimals.
/// A kind this service does not know, or a known kind missing the facts it
/// needs, gets a generic text rather than an error: the event happened and
/// the user should still hear about it.
public enum NotificationRenderer {
    public struct Message: Sendable, Hashable {
        public let subject: String
        public let body: String
    }

    public static func render(kind: String, data: [String: String]) -> Message {
        guard let orderID = data["order_id"], !orderID.isEmpty else { return generic(kind: kind) }
        let total = data["total"].flatMap(formatCents)
        let totalSentence = total.map { " Total: \($0)." } ?? ""
        switch kind {
        case "order_confirmed":
            return Message(
                subject: "Your order \(orderID) is confirmed",
                body: "Thank you for your order. Order \(orderID) is confirmed and will be prepared for shipping.\(totalSentence)"
            )
        case "order_cancelled":
            return Message(
                subject: "Your order \(orderID) is cancelled",
                body: "Order \(orderID) has been cancelled; nothing will be shipped.\(totalSentence)"
            )
        case "order_cancelled_out_of_stock":
            // The order had been confirmed; its stock lapsed while the
            // system was catching up and was sold to someone else.
            let product = data["product_id"].map { "product \($0)" } ?? "an item in it"
            return Message(
                subject: "Your order \(orderID) could not be completed",
                body: "We are sorry: order \(orderID) has been cancelled because \(product) sold out before we could "
                    + "complete your order. Nothing will be shipped and nothing is owed.\(totalSentence)"
            )
        case "order_shipped":
            return Message(
                subject: "Your order \(orderID) has shipped",
                body: "Order \(orderID) is on its way."
            )
        case "order_delivered":
            return Message(
                subject: "Your order \(orderID) has been delivered",
                body: "Order \(orderID) has been delivered. Enjoy!"
            )
        default:
            return generic(kind: kind)
        }
    }

    static func generic(kind: String) -> Message {
        Message(
            subject: "News about your account",
            body: "Something happened in your account (\(kind)). Sign in to see the details."
        )
    }

    /// `5997` as `"59.97"`; `nil` when `text` is not a whole number of cents.
    static func formatCents(_ text: String) -> String? {
        guard let cents = Int64(text) else { return nil }
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
