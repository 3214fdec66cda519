import ArgumentParser
import Foundation
import ProductService
import ServiceSupport
import ShopStorage

/// `shop seed`: generated products straight into the product service's
/// database, in batches (for measuring the API with a large catalog).
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Write generated products into the catalog, fast (for benchmarks).",
        discussion: """
        Appends --products products to <data>/product.sqlite (or, with \
        --database-url, to the product schema of that PostgreSQL database), \
        --batch per transaction, spread over ten categories. It may run while \
        `shop up` serves the same data: the product service sees each batch \
        once it commits. Prints the count and the rate when done.
        """
    )

    @Option(help: "The data folder of `shop up` or `shop serve product` (SHOP_DATA_DIR; default ./data).")
    var data: String?

    @Option(help: "PostgreSQL holding the catalog, postgres://USER:PASSWORD@HOST:5432/DATABASE (SHOP_DATABASE_URL; default: SQLite in --data).")
    var databaseURL: String?

    @Option(help: "How many products to write.")
    var products: Int = 1_000

    @Option(help: "Products per transaction.")
    var batch: Int = 10_000

    mutating func validate() throws {
        guard (1...100_000_000).contains(products) else { throw ValidationError("--products must be between 1 and 100000000") }
        guard (1...1_000_000).contains(batch) else { throw ValidationError("--batch must be between 1 and 1000000") }
    }

    func run() async throws {
        let variables = ProcessInfo.processInfo.environment
        var settings = variables.filter { $0.key.hasPrefix("SHOP_") }
        if let databaseURL { settings[ServiceDatabase.urlSetting] = databaseURL }
        // A batch is one transaction, far larger than a request's: allow it
        // more than a request's bound unless told otherwise.
        if settings[ServiceDatabase.timeoutSetting] == nil { settings[ServiceDatabase.timeoutSetting] = "600" }
        let environment = ServiceEnvironment(dataDirectory: data ?? variables["SHOP_DATA_DIR"] ?? "./data", settings: settings)
        let target: String
        if let url = environment.databaseURL {
            target = (try? DatabaseURL(url).description) ?? "the PostgreSQL database"
        } else {
            target = environment.databasePath("product")
        }
        let started = ContinuousClock.now
        do {
            try await ProductSeeder.seed(environment: environment, count: products, batchSize: batch)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        } catch let error as StorageError where error.kind == .unavailable {
            FileHandle.standardError.write(Data("error: seed: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("seeded \(products) products into \(target) in \(String(format: "%.1f", seconds)) s (\(Int(Double(products) / max(seconds, 0.001))) per second)")
    }
}
