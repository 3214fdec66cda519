import Foundation
import ServiceTesting
import Supervisor
import Testing

/// What a process refuses at start, as an operator meets it: the real
/// `shop` executable, its exit status and the sentence it prints.
@Suite("Refusing to start without transport security")
struct StartRefusalTests {
    /// Runs `shop` with `arguments` and an environment without any `SHOP_*`
    /// variable but `settings`; its exit status and everything it printed.
    func run(_ arguments: [String], settings: [String: String] = [:]) async throws -> (status: ChildProcess.Termination, output: String) {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SHOP_") }
        for (key, value) in settings { environment[key] = value }
        let output = ProcessOutput()
        let child = try ChildProcess.spawn(executable: ShopProcess.executable.path, arguments: arguments, environment: environment, onLine: output.append)
        let status = await child.termination()
        // The last lines may still be on their way through the pipe.
        _ = await output.waitFor(timeout: .seconds(2)) { $0.contains("rror") }
        return (status, output.lines.joined(separator: "\n"))
    }

    @Test("shop serve without SHOP_TLS_* outside dev mode exits non-zero with one sentence naming what is missing")
    func serveWithoutTLS() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let (status, output) = try await run(["serve", "product", "--port", "0", "--data", folder.path])
        #expect(status != .exited(0))
        #expect(output.contains("mutual TLS is required outside dev mode and SHOP_TLS_CERT, SHOP_TLS_KEY and SHOP_TLS_CA are missing"), "\(output)")
        #expect(!output.contains("ready "))
    }

    @Test("shop gateway without SHOP_TLS_* outside dev mode exits non-zero naming them")
    func gatewayWithoutTLS() async throws {
        let settings = ["SHOP_SIGNING_KEY": "gateway-refusal-test-signing-key-0123456789"]
            .merging(["user", "product", "inventory", "order", "notification"].map { ("SHOP_\($0.uppercased())_ADDR", "127.0.0.1:9") }) { $1 }
        let (status, output) = try await run(["gateway", "--port", "0"], settings: settings)
        #expect(status != .exited(0))
        #expect(output.contains("SHOP_TLS_CERT, SHOP_TLS_KEY and SHOP_TLS_CA are missing"), "\(output)")
    }

    @Test("shop serve in dev mode refuses a non-loopback --host")
    func devModeRefusesPublicHost() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let (status, output) = try await run(
            ["serve", "product", "--host", "0.0.0.0", "--port", "0", "--data", folder.path],
            settings: ["SHOP_DEV_MODE": "true"]
        )
        #expect(status != .exited(0))
        #expect(output.contains("only binds loopback addresses, not '0.0.0.0'"), "\(output)")
    }

    @Test("shop up refuses a non-loopback --host: dev mode's secrets are public")
    func upRefusesPublicHost() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let (status, output) = try await run(["up", "--host", "0.0.0.0", "--data", folder.path])
        #expect(status != .exited(0))
        #expect(output.contains("--host must be a loopback address"), "\(output)")
    }

    @Test("shop up --replicas 2 without a database URL exits non-zero, says why in one sentence, and starts nothing")
    func upRefusesReplicasOnSQLite() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let (status, output) = try await run(["up", "--replicas", "2", "--data", folder.path])
        #expect(status != .exited(0))
        #expect(output.contains("--replicas 2 needs --database-url (or SHOP_DATABASE_URL): without it each service keeps its data in one SQLite file that only one process may write, so replicas must share a PostgreSQL database"), "\(output)")
        #expect(!output.contains("starting "), "\(output)")
    }

    @Test("shop certs writes a CA and the six certificates; run again, it keeps the CA")
    func certsCommand() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let first = try await run(["certs", "--out", folder.path])
        #expect(first.status == .exited(0), "\(first.output)")
        #expect(first.output.contains("new CA"))
        for name in ["ca"] + ["gateway", "user", "product", "inventory", "order", "notification"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder.path)/\(name).pem"), "\(name).pem")
            #expect(FileManager.default.fileExists(atPath: "\(folder.path)/\(name).key"), "\(name).key")
        }
        let ca = try String(contentsOfFile: "\(folder.path)/ca.pem", encoding: .utf8)
        let oldLeaf = try String(contentsOfFile: "\(folder.path)/user.pem", encoding: .utf8)
        let keyMode = try FileManager.default.attributesOfItem(atPath: "\(folder.path)/user.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        let second = try await run(["certs", "--out", folder.path])
        #expect(second.status == .exited(0), "\(second.output)")
        #expect(second.output.contains("kept the CA"))
        #expect(try String(contentsOfFile: "\(folder.path)/ca.pem", encoding: .utf8) == ca)
        #expect(try String(contentsOfFile: "\(folder.path)/user.pem", encoding: .utf8) != oldLeaf)
    }
}
