import ArgumentParser
import FrameRPC
import Foundation
import ServiceSupport

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a server's health RPC; exit 0 if SERVING, 1 otherwise (for probes)."
    )

    @Argument(help: "The server's HOST:PORT.")
    var address: String

    @Option(help: "The service to ask about; empty means the whole server.")
    var service: String = ""

    @Option(help: "Seconds to wait for an answer.")
    var timeout: Double = 2

    @OptionGroup var tls: TLSOptions

    @Option(help: "The identity the server must prove, e.g. spiffe://shop.local/service/user; default: any server the CA verifies.")
    var expect: String?

    func run() async throws {
        guard let endpoint = ServiceEndpoint(address) else {
            throw ValidationError("'\(address)' is not HOST:PORT")
        }
        // The probe presents the same certificate as the process it checks
        // (a Kubernetes probe runs inside that pod) and needs it wherever
        // that process needs it.
        let tlsConfiguration: RPCTLSConfiguration?
        do {
            tlsConfiguration = try TLSSettings.configuration(from: tls.applied(to: ProcessInfo.processInfo.environment))
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let client = RPCClient(
            host: endpoint.host,
            port: endpoint.port,
            configuration: RPCClient.Configuration(tls: tlsConfiguration?.requiringServerIdentity(expect))
        )
        defer { client.shutdown() }
        do {
            let response = try await HealthClient(client).check(
                .with { $0.service = service },
                options: CallOptions(timeout: .milliseconds(Int64(timeout * 1000)))
            )
            print(response.status == .serving ? "SERVING" : "NOT_SERVING")
            if response.status != .serving { throw ExitCode(1) }
        } catch let error as RPCError {
            print("unhealthy: \(error)")
            throw ExitCode(1)
        }
    }
}
