import Foundation
import ServiceTesting
import Supervisor
import Synchronization
import Testing

/// `shop serve` with a PostgreSQL database that is not there, as a real process.
@Suite("shop serve without its database")
struct ServeWithoutDatabaseTests {
    @Test("the service exits 1 at start with one sentence naming the database it cannot reach")
    func exitsWithOneSentence() async throws {
        let port = try restartablePort()
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in TestPKI.shared.settings(for: "product") { environment[key] = value }
        for (key, value) in TestSigning.settings { environment[key] = value }
        let lines = Mutex<[String]>([])
        let child = try ChildProcess.spawn(
            executable: ShopProcess.executable.path,
            arguments: ["serve", "product", "--port", "0", "--database-url", "postgres://shop:hidden-password@127.0.0.1:\(port)/shop"],
            environment: environment
        ) { line in lines.withLock { $0.append(line) } }
        let exit = await child.termination()
        // The output thread may hand over the last line a moment later.
        try await Task.sleep(for: .milliseconds(200))
        let output = lines.withLock { $0 }
        #expect(exit == .exited(1))
        let sentence = output.first { $0.hasPrefix("error: product: cannot reach the PostgreSQL database postgres://shop@127.0.0.1:\(port)/shop") }
        #expect(sentence != nil, "output: \(output.suffix(5))")
        let leaksPassword = output.contains { $0.contains("hidden-password") }
        let becameReady = output.contains { $0.hasPrefix("ready ") }
        #expect(!leaksPassword)
        #expect(!becameReady)
    }
}
