import ShopAPI

/// One product's counts. Reserve, Commit, Release and expiry only move
/// units between the three, so for every product
/// `initial stock = available + reserved + committed`, where SetStock
/// starts a new "initial": the new `available` plus what is held.
struct StockLevel: Sendable, Hashable {
    var productID: String
    var available: Int
    var reserved: Int
    var committed: Int

    /// The stock as the API shows it (`committed` is internal bookkeeping).
    var message: Shop_Inventory_V1_Stock {
        .with {
            $0.productID = productID
            $0.available = Int32(clamping: available)
            $0.reserved = Int32(clamping: reserved)
        }
    }
}
