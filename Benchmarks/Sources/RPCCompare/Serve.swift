import ArgumentParser
import Foundation

/// The server child: serves Echo for one system, prints `PORT <n>` once
/// listening, answers each `USAGE` line on standard input with this
/// process's `USAGE <cpu ns> <peak RSS bytes>`, and exits when standard
/// input closes (so it never outlives the parent).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve Echo for one system (a child of `run`).")

    @Option(help: "floor, framerpc, grpc, framerpc-mtls or grpc-mtls.")
    var system: System

    @Option(help: "Address to bind (the port is chosen by the system).")
    var host = "127.0.0.1"

    @Option(name: .customLong("tls-dir"), help: "Folder with the certificates (the mTLS systems).")
    var tlsDirectory: String?

    func run() async throws {
        let certificates = try system.usesTLS ? loadCertificates() : nil
        Thread.detachNewThread { answerUsageUntilEOF() }
        let announce: @Sendable (Int) -> Void = { port in
            FileHandle.standardOutput.write(Data("PORT \(port)\n".utf8))
        }
        switch system {
        case .floor:
            let channel = try await FloorServer.bind(host: host, port: 0)
            announce(channel.localAddress?.port ?? 0)
            try await channel.closeFuture.get()
        case .framerpc, .framerpcMTLS:
            try await FrameRPCEcho.serve(host: host, certificates: certificates, announce: announce)
        case .grpc, .grpcMTLS:
            try await GRPCEcho.serve(host: host, certificates: certificates, announce: announce)
        }
    }

    private func loadCertificates() throws -> BenchCertificates {
        guard let tlsDirectory else { throw ValidationError("--system \(system.rawValue) needs --tls-dir") }
        return BenchCertificates(directory: tlsDirectory)
    }
}

/// Reads standard input line by line; `USAGE` is answered, end of file ends
/// the process.
private func answerUsageUntilEOF() {
    while let line = readLine() {
        if line == "USAGE" {
            FileHandle.standardOutput.write(Data((ProcessUsage.current().line + "\n").utf8))
        }
    }
    exit(0)
}
