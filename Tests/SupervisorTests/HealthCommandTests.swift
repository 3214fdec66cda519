import Foundation
import ServiceTesting
import Supervisor
import Testing

/// `shop health` as compose healthchecks and Kubernetes probes run it:
/// inside the service's container, with that container's TLS settings.
@Suite("shop health over mutual TLS")
struct HealthCommandTests {
    func health(_ arguments: [String], settings: [String: String]) async throws -> (status: ChildProcess.Termination, output: String) {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SHOP_") }
        for (key, value) in settings { environment[key] = value }
        let output = ProcessOutput()
        let child = try ChildProcess.spawn(executable: ShopProcess.executable.path, arguments: ["health"] + arguments, environment: environment, onLine: output.append)
        let status = await child.termination()
        _ = await output.waitFor(timeout: .seconds(2)) { !$0.isEmpty }
        return (status, output.lines.joined(separator: "\n"))
    }

    @Test("with the service's own certificate it reports SERVING; expecting another identity, or without TLS settings, it fails")
    func probes() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let product = try await ShopProcess.start(service: "product", dataDirectory: folder.path)
        let address = "127.0.0.1:\(product.port)"

        let serving = try await health([address, "--expect", "spiffe://shop.local/service/product"], settings: TestPKI.shared.settings(for: "product"))
        #expect(serving.status == .exited(0), "\(serving.output)")
        #expect(serving.output.contains("SERVING"))

        let impostor = try await health([address, "--expect", "spiffe://shop.local/service/user"], settings: TestPKI.shared.settings(for: "product"))
        #expect(impostor.status == .exited(1), "\(impostor.output)")

        let bare = try await health([address], settings: [:])
        #expect(bare.status != .exited(0))
        #expect(bare.output.contains("SHOP_TLS_CERT, SHOP_TLS_KEY and SHOP_TLS_CA are missing"), "\(bare.output)")
        await product.terminate()
    }
}
