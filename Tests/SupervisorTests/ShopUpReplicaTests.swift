import FrameRPC
import Foundation
import ServiceTesting
import Supervisor
import Testing

/// `shop up --database-url URL --replicas 2` as a user runs it: the real
/// executable, eleven real child processes, a real PostgreSQL server (a
/// throwaway one of the test's own).
@Suite(
    "shop up --replicas",
    .serialized,
    .enabled(if: PostgresServer.isInstalled, "no PostgreSQL server installed (apt-get install postgresql)")
)
struct ShopUpReplicaTests {
    @Test("shop up --replicas 2 starts two of each service on the documented ports, all serving, and restarts a killed one while its twin serves")
    func twoOfEachServiceStartAndRestart() async throws {
        let database = try await PostgresServer.start()
        let url = try await database.createDatabase("shop")
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        do {
            let system = try await ShopUpProcess.start(dataDirectory: folder.path, replicas: 2, settings: ReplicaFailoverTests.settings, extraArguments: ["--database-url", url])
            #expect(!system.output.lines.contains { $0.contains(database.password) }, "the database password is never printed")
            for service in SystemPlan.services.map(\.name) {
                for replica in 1...2 {
                    let client = system.client(for: service, replica: replica)
                    let status = try? await HealthClient(client).check(.init(), options: CallOptions(timeout: .seconds(5))).status
                    client.shutdown()
                    #expect(status == .serving, "\(service)-\(replica) on port \(system.port(of: service, replica: replica))")
                }
            }
            let mark = system.output.lines.count
            let pid = try #require(system.pid(of: "user-1"))
            kill(pid, SIGKILL)
            // Its twin serves meanwhile: the gateway balances to it.
            let health = await system.send("GET", "/health")
            #expect(health.status == 200 || health.status == 503, "the gateway answers")
            let restarted = await system.output.waitFor(timeout: .seconds(60), after: mark) { $0.contains("| user-1 restarted and ready") }
            #expect(restarted != nil, "\(system.output.lines.suffix(15).joined(separator: "\n"))")
            #expect(await system.send("GET", "/health").status == 200)
            #expect(await system.stop() == 0)
        } catch {
            Issue.record(error)
        }
        await database.stop()
    }

}
