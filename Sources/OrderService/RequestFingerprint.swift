import Crypto
import FrameRPC

/// What an idempotency key was used for: a SHA-256 of the canonical
/// CreateOrder request, stored with the order.
///
/// Canonical means: the owner's id, then one line per product (repeated
/// products merged, sorted by product id) with its quantity. So the same
/// purchase sent again, in any item order, is the same request; other
/// items, other quantities or another owner are not. Prices are not part of
/// it: they come from the catalog, not from the request.
struct RequestFingerprint: Sendable, Hashable {
    /// Lower-case hex, with a version prefix so the form can change later.
    let value: String

    init(ownerID: String, lines: [OrderPlacement.Line]) {
        var canonical = "user:\(ownerID)\n"
        for line in lines.sorted(by: { $0.productID < $1.productID }) {
            canonical += "item:\(line.productID):\(line.quantity)\n"
        }
        let digest = SHA256.hash(data: Array(canonical.utf8))
        value = "v1:" + digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Throws INVALID_ARGUMENT (HTTP 422) unless the order found under the
    /// key was placed by this same request. An order stored without a
    /// fingerprint (placed before they were kept) matches any request.
    func check(_ stored: String?) throws {
        guard let stored, stored != value else { return }
        throw RPCError(
            code: .invalidArgument,
            message: "idempotency_key: this key was already used for a different order (other items, quantities or user); "
                + "send a new key for a new order"
        )
    }
}
