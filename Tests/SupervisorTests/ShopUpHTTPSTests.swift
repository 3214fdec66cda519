import Foundation
import ServiceTesting
import Supervisor
import Testing

/// `shop up --https`: the gateway serves HTTPS with its development
/// certificate, which a real client (curl) verifies against the development
/// CA, over HTTP/2.
@Suite("shop up --https", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "no curl installed"))
struct ShopUpHTTPSTests {
    @Test func theGatewayServesHTTPSThatTheDevelopmentCAVouchesFor() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let system = try await ShopUpProcess.start(dataDirectory: folder.path, extraArguments: ["--https"])
        do {
            try await expectHTTPS(system)
        } catch {
            Issue.record(error)
        }
        await system.stop()
    }

    private func expectHTTPS(_ system: ShopUpProcess) async throws {
        let url = "https://localhost:\(system.gatewayPort)/"
        #expect(system.output.lines.contains { $0.contains("HTTPS: the gateway serves https://localhost:\(system.gatewayPort)") && $0.contains("\(system.certificateDirectory)/ca.pem") })

        let output = ProcessOutput()
        let curl = try ChildProcess.spawn(
            executable: "/usr/bin/curl",
            arguments: ["--silent", "--show-error", "--max-time", "20", "--http2",
                        "--resolve", "localhost:\(system.gatewayPort):127.0.0.1",
                        "--cacert", "\(system.certificateDirectory)/ca.pem",
                        "--write-out", "\n@@done %{http_version} %{http_code}\n", url],
            environment: [:],
            onLine: output.append
        )
        let termination = await curl.termination()
        let done = await output.waitFor(timeout: .seconds(5)) { $0.hasPrefix("@@done") }
        #expect(termination == .exited(0), "\(output.lines)")
        #expect(done == "@@done 2 200", "\(output.lines)")
        #expect(output.lines.contains { $0.contains("API Gateway is running") })
    }
}
