import FrameRPC
import Foundation
import ServiceTesting
import ShopAPI
import ShopAuth
import Supervisor
import Testing

/// `shop up` as a user runs it: the real executable, six real child
/// processes, real ports and SQLite files.
@Suite("shop up", .serialized)
struct ShopUpTests {
    static let children = SystemPlan.services.map(\.name) + ["gateway"]

    @Test("shop up says ready once every service is healthy, and SIGTERM stops every child, gateway first, exit 0")
    func upAndDown() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let system = try await ShopUpProcess.start(dataDirectory: folder.path)

        let health = try await system.get("/health")
        #expect(health.status == 200, "\(health.body)")
        for service in SystemPlan.services.map(\.name) {
            #expect(health.body.contains("\"\(service)\":\"healthy\""), "\(health.body)")
        }
        for service in SystemPlan.services.map(\.name) {
            #expect(FileManager.default.fileExists(atPath: "\(folder.path)/\(service).sqlite"), "no database for \(service)")
        }

        // Mutual TLS everywhere: the certificates are made, reported, and
        // a caller without one gets nothing from a service.
        #expect(system.output.lines.contains { $0.contains("mutual TLS: made a development CA and certificates") && $0.contains(system.certificateDirectory) })
        for name in Self.children {
            #expect(FileManager.default.fileExists(atPath: "\(system.certificateDirectory)/\(name).pem"), "no certificate for \(name)")
        }
        let plaintext = RPCClient(host: "127.0.0.1", port: system.port(of: "user"))
        defer { plaintext.shutdown() }
        let refused = await rpcError { _ = try await HealthClient(plaintext).check(.init(), options: CallOptions(timeout: .seconds(5))) }
        #expect(refused != nil, "a plaintext caller was answered")
        let verified = system.client(for: "user")
        defer { verified.shutdown() }
        #expect(try await HealthClient(verified).check(.init(), options: CallOptions(timeout: .seconds(5))).status == .serving)

        let status = await system.stop()
        #expect(status == 0, "\(system.output.lines.suffix(20).joined(separator: "\n"))")
        let stopped = system.output.lines.compactMap { line -> String? in
            guard let range = line.range(of: "| "), line.hasSuffix(")"), line.contains(" stopped (") else { return nil }
            return line[range.upperBound...].split(separator: " ").first.map(String.init)
        }
        #expect(stopped == Array(Self.children.reversed()), "stop order: \(stopped)")
        for port in [system.gatewayPort] + SystemPlan.services.map({ system.port(of: $0.name) }) {
            #expect(PortProbe.problem(host: "127.0.0.1", port: port) == nil, "port \(port) still taken")
        }
    }

    @Test("any child killed with SIGKILL is restarted, and writes it acknowledged are still there")
    func restartsKilledChildren() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let system = try await ShopUpProcess.start(dataDirectory: folder.path)

        let client = system.client(for: "user")
        defer { client.shutdown() }
        let users = UserServiceClient(client)
        let created = try await users.createUser(.with {
            $0.email = "kill9-\(UUID().uuidString.prefix(8).lowercased())@example.com"
            $0.fullName = "Survivor"
            $0.password = "correct horse battery"
        }, options: CallOptions(timeout: .seconds(10)))

        for child in Self.children {
            let mark = system.output.lines.count
            let pid = try #require(system.pid(of: child), "no pid for \(child)")
            kill(pid, SIGKILL)
            let restarted = await system.output.waitFor(timeout: .seconds(60), after: mark) { $0.contains("| \(child) restarted and ready") }
            #expect(restarted != nil, "\(child) was not restarted:\n\(system.output.lines.suffix(15).joined(separator: "\n"))")
            #expect(system.pid(of: child) != pid)
        }

        let health = try await system.get("/health")
        #expect(health.status == 200, "\(health.body)")
        let read = try await users.getUser(.with { $0.id = created.id }, options: CallOptions(timeout: .seconds(10), metadata: ["x-user-id": created.id, "x-user-role": "user"]))
        #expect(read.email == created.email)
        #expect(await system.stop() == 0)
    }

    @Test("when shop up itself is killed with SIGKILL its children notice and stop, freeing every port")
    func childrenDoNotOutliveSupervisor() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let system = try await ShopUpProcess.start(dataDirectory: folder.path)
        let ports = [system.gatewayPort] + SystemPlan.services.map { system.port(of: $0.name) }
        kill(system.pid, SIGKILL)
        _ = await system.child.termination()
        let deadline = ContinuousClock.now + .seconds(20)
        var taken = ports
        while !taken.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            taken = ports.filter { PortProbe.problem(host: "127.0.0.1", port: $0) != nil }
        }
        #expect(taken.isEmpty, "still bound after the supervisor died: \(taken)")
    }

    @Test("a second shop up on the same ports exits 1 naming the port in use, and the first keeps serving")
    func secondInstanceRefused() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let first = try await ShopUpProcess.start(dataDirectory: folder.path)

        let second = try ShopUpProcess.launch(dataDirectory: folder.path, gatewayPort: first.gatewayPort, basePort: first.basePort)
        #expect(await second.child.termination() == .exited(1))
        let said = await second.output.waitFor(timeout: .seconds(5)) { $0.contains("already in use") }
        #expect(said?.contains("port \(first.gatewayPort)") == true || said?.contains("port \(first.basePort)") == true, "\(second.output.lines)")
        #expect(second.output.lines.allSatisfy { !$0.contains("Fatal error") && !$0.contains("Stack dump") })
        #expect(try await first.get("/health").status == 200)
        #expect(await first.stop() == 0)
    }

    @Test("dev mode prints its development admin once and that admin can log in through the gateway")
    func devModeAdmin() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let system = try await ShopUpProcess.start(dataDirectory: folder.path)
        let warnings = system.output.lines.filter { $0.contains("WARNING: dev mode") }
        #expect(warnings.count == 1)
        let client = system.client(for: "user")
        defer { client.shutdown() }
        let login = try await UserServiceClient(client).login(.with {
            $0.email = DevelopmentSecrets.adminEmail
            $0.password = DevelopmentSecrets.adminPassword
        }, options: CallOptions(timeout: .seconds(10)))
        #expect(!login.accessToken.isEmpty)
        #expect(await system.stop() == 0)
    }
}
