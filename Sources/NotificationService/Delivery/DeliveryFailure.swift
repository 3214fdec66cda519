/// Why one attempt to deliver failed, and whether another could succeed:
/// an SMTP 5xx reply or a webhook's 4xx is ``permanent`` (retrying sends
/// the same bytes to the same refusal); timeouts, connection failures,
/// SMTP 4xx and HTTP 5xx are not.
struct DeliveryFailure: Error, CustomStringConvertible, Sendable {
    let reason: String
    let permanent: Bool

    var description: String { reason }
}

/// A way out for a rendered notification: sends one stored delivery's
/// content to its recipient and returns the receipt (the SMTP server's
/// reply, the webhook's HTTP status).
protocol DeliveryChannel: Sendable {
    var name: DeliveryChannelName { get }
    func send(_ delivery: StoredDelivery) async throws(DeliveryFailure) -> String
    /// Releases what the channel holds (connections); called once, when
    /// the relay stops.
    func shutdown() async
}
