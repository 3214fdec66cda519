/// Why an order was cancelled, as stored in `orders.cancellation_reason`.
enum CancellationCause: String, Sendable {
    /// Its owner or an admin asked for it (CancelOrder, UpdateOrderStatus).
    case requested
    /// Its late commit was refused: the reservation had expired and the
    /// units were sold to another order meanwhile (``InventoryDelivery``).
    case stockUnavailable = "stock_unavailable"
}
