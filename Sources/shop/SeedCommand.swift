import ArgumentParser
import Foundation
import ProductService

/// `shop seed`: generated products straight into the product service's
/// database, in batches (for measuring the API with a large catalog).
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Write generated products into the catalog, fast (for benchmarks).",
        discussion: """
        Appends --products products to <data>/product.sqlite, --batch per \
        transaction, spread over ten categories. It may run while `shop up` \
        serves the same folder: the product service sees each batch once it \
        commits. Prints the count and the rate when done.
        """
    )

    @Option(help: "The data folder of `shop up` or `shop serve product` (SHOP_DATA_DIR; default ./data).")
    var data: String?

    @Option(help: "How many products to write.")
    var products: Int = 1_000

    @Option(help: "Products per transaction.")
    var batch: Int = 10_000

    mutating func validate() throws {
        guard (1...100_000_000).contains(products) else { throw ValidationError("--products must be between 1 and 100000000") }
        guard (1...1_000_000).contains(batch) else { throw ValidationError("--batch must be between 1 and 1000000") }
    }

    func run() async throws {
        let folder = data ?? ProcessInfo.processInfo.environment["SHOP_DATA_DIR"] ?? "./data"
        let path = URL(fileURLWithPath: folder).appendingPathComponent("product.sqlite").path
        let started = ContinuousClock.now
        try await ProductSeeder.seed(path: path, count: products, batchSize: batch)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("seeded \(products) products into \(path) in \(String(format: "%.1f", seconds)) s (\(Int(Double(products) / max(seconds, 0.001))) per second)")
    }
}
