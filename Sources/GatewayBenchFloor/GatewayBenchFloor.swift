import ArgumentParser
import Foundation
import Hummingbird

/// The floor of the gateway benchmark: a bare Hummingbird route that
/// answers `GET /api/products/{id}` with a fixed product JSON held in
/// memory. Whatever the gateway costs on top (auth, transcoding, the RPC
/// to the product service, SQLite) shows as its distance from this.
@main
struct GatewayBenchFloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-bench-floor",
        abstract: "Serve one product's JSON from memory, for bench/gateway-bench.sh."
    )

    @Option(help: "Port to listen on, on 127.0.0.1.")
    var port: Int = 18_080

    @Option(help: "The JSON body to answer with (the product as the gateway returns it).")
    var json: String

    func run() async throws {
        let body = ByteBuffer(string: json)
        let router = Router()
        router.get("/api/products/{id}") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: body)
            )
        }
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in FileHandle.standardOutput.write(Data("ready floor 127.0.0.1:\(port)\n".utf8)) }
        )
        try await application.runService()
    }
}
