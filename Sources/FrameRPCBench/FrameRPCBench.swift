import ArgumentParser
import FrameRPC
import Foundation
import NIOCore
import NIOPosix
import Synchronization

extension SystemKind: ExpressibleByArgument {}

struct FrameRPCBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "framerpc-bench",
        abstract: "Measures FrameRPC unary echo against a raw SwiftNIO length-prefixed echo (the floor).",
        discussion: """
            With no subcommand, runs everything: for each concurrency and system it starts \
            `framerpc-bench serve` as a separate process on 127.0.0.1, drives it over one \
            connection from this process, and prints calls/s, latency percentiles and CPU \
            time per call, then the FrameRPC/floor ratios against the targets \
            (calls/s at c=64 >= 0.5 and CPU per call <= 3x, p50 at c=1 <= 1.3). Build with -c release.
            """,
        subcommands: [Run.self, Serve.self, Client.self],
        defaultSubcommand: Run.self
    )
}

#if DEBUG
let buildMode = "debug"
#else
let buildMode = "release"
#endif

/// Options shared by the commands that generate load.
struct LoadOptions: ParsableArguments {
    @Option(help: "Seconds measured per run.")
    var duration: Double = 5

    @Option(help: "Seconds of load before each measured window (not measured).")
    var warmup: Double = 1

    @Option(name: .customLong("payload-size"), help: "Bytes of payload per request (echoed back).")
    var payloadSize: Int = 100

    @Option(help: "Address the servers bind and the client connects to.")
    var host: String = "127.0.0.1"

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: ArgumentHelp(
        "Run Swift concurrency on NIO's event loops, in the client and in the server process.",
        discussion: "Installs MultiThreadedEventLoopGroup.singleton as the global executor (NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor) instead of the default thread pool. Off by default."
    ))
    var nioExecutor = false

    func validate() throws {
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be > 0 and --warmup >= 0") }
        guard payloadSize >= 0, payloadSize <= 1 << 20 else { throw ValidationError("--payload-size must be 0...1048576") }
    }

    var payload: [UInt8] {
        (0..<payloadSize).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
    }

    func installExecutorIfAsked() throws {
        if nioExecutor { try installNIOExecutor() }
    }

    func emit(_ report: Report) throws {
        if json {
            print(try report.json())
        } else {
            print(report.table())
        }
    }
}

/// Set once the NIO executor is installed (by ``Entry`` before the first task).
private let nioExecutorInstalled = Atomic<Bool>(false)

/// Makes NIO's event loops Swift concurrency's global executor. Idempotent:
/// ``Entry`` installs it before the first task when `--nio-executor` is on
/// the command line, and the commands ask again.
func installNIOExecutor() throws {
    if nioExecutorInstalled.load(ordering: .acquiring) { return }
    guard NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() else {
        throw BenchError("could not install the NIO event loops as the global executor")
    }
    nioExecutorInstalled.store(true, ordering: .releasing)
}

/// Drives one server with the load of one system and returns the measurement.
func measure(
    system: SystemKind,
    concurrency: Int,
    host: String,
    port: Int,
    serverPID: Int32?,
    options: LoadOptions,
    certificates: BenchCertificates? = nil
) async throws -> RunResult {
    let payload = options.payload
    let window = TimedWindow(warmup: options.warmup, duration: options.duration)
    async let cpu = measureCPU(window: window, serverPID: serverPID)
    let sample: LoadSample
    switch system {
    case .raw:
        sample = try await RawEchoClient.run(host: host, port: port, payload: payload, concurrency: concurrency, window: window)
    case .framerpc, .rpcClient:
        sample = try await FrameRPCEchoClient.run(host: host, port: port, payload: payload, concurrency: concurrency, window: window)
    case .framerpcLoop:
        sample = try await FrameRPCEchoClient.run(host: host, port: port, payload: payload, concurrency: concurrency, window: window, onEventLoop: true)
    case .framerpcTLS:
        guard let certificates else { throw BenchError("framerpc-mtls needs certificates (--tls-dir)") }
        sample = try await FrameRPCEchoClient.run(host: host, port: port, payload: payload, concurrency: concurrency, window: window, tls: certificates.client)
    case .rpcServer:
        sample = try await EventLoopFrameRPCClient.run(host: host, port: port, payload: payload, concurrency: concurrency, window: window)
    }
    return try await RunResult(system: system, concurrency: concurrency, window: window, sample: sample, cpu: cpu)
}

// MARK: run (default)

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every system at every concurrency, each against a fresh server process (the default)."
    )

    @OptionGroup var options: LoadOptions

    @Option(parsing: .upToNextOption, help: "Concurrency levels (calls in flight on the one connection).")
    var concurrency: [Int] = [1, 64]

    @Option(parsing: .upToNextOption, help: ArgumentHelp(
        "Systems to run: raw, framerpc, framerpc-mtls; diagnostics: rpc-server, rpc-client.",
        discussion: "rpc-server is FrameRPC's server driven by an event-loop client; rpc-client is FrameRPC's client against an event-loop server."
    ))
    var systems: [SystemKind] = [.raw, .framerpc, .framerpcLoop, .framerpcTLS]

    @Option(help: "Fresh connections timed (connect, handshake and one call) for the handshake figure, plaintext and mTLS each; 0 skips it.")
    var handshakes = 200

    @Flag(help: "Exit with status 1 if a target is missed.")
    var failOnMiss = false

    @Option(help: ArgumentHelp(
        "Measure a run again, up to this many times, while other processes and hypervisor steal took more than 0.1 processors during it.",
        discussion: "The least disturbed attempt is reported, with its attempt count and the other load it saw."
    ))
    var retriesIfDisturbed = 2

    func validate() throws {
        guard concurrency.allSatisfy({ $0 >= 1 && $0 <= 10_000 }) else { throw ValidationError("--concurrency must be 1...10000") }
    }

    func run() async throws {
        try options.installExecutorIfAsked()
        if buildMode != "release" {
            printError("warning: this is a \(buildMode) build; measure with `swift build -c release`")
        }
        let certificates = try BenchCertificates.make()
        defer { certificates.remove() }
        var results: [RunResult] = []
        for level in concurrency {
            for system in systems {
                var best: RunResult?
                for attempt in 1...(1 + max(0, retriesIfDisturbed)) {
                    printError("running \(system.label) at concurrency \(level) (\(options.warmup) s warm-up + \(options.duration) s)\(attempt > 1 ? ", attempt \(attempt)" : "")...")
                    var result = try await measureAgainstChild(system: system, concurrency: level, certificates: certificates)
                    result.attempts = attempt
                    if result.errors > 0 {
                        printError("warning: \(result.errors) calls failed or returned wrong bytes")
                    }
                    if best == nil || result.disturbance < best!.disturbance { best = result }
                    guard result.disturbance > Report.disturbanceWarning else { break }
                    printError("other processes and steal took \(Report.number(result.disturbance, 2)) processors during that run")
                }
                results.append(best!)
            }
        }
        var handshake: HandshakeResult?
        if handshakes > 0, systems.contains(.framerpcTLS) {
            printError("timing \(handshakes) fresh connections, plaintext and mTLS...")
            handshake = try await HandshakeProbe.compare(host: options.host, count: handshakes, certificates: certificates, nioExecutor: options.nioExecutor)
        }
        let report = Report(
            build: buildMode, executor: options.nioExecutor ? "nio" : "default", host: options.host, payloadBytes: options.payloadSize,
            warmupSeconds: options.warmup, durationSeconds: options.duration, results: results, handshake: handshake
        )
        try options.emit(report)
        if failOnMiss, !report.passed { throw ExitCode(1) }
    }

    /// One measurement against a fresh server process.
    private func measureAgainstChild(system: SystemKind, concurrency: Int, certificates: BenchCertificates) async throws -> RunResult {
        let server = try await ServerProcess.start(kind: system, host: options.host, nioExecutor: options.nioExecutor, tlsDirectory: certificates.directory)
        let result: RunResult
        do {
            result = try await measure(
                system: system, concurrency: concurrency, host: options.host,
                port: server.port, serverPID: server.pid, options: options, certificates: certificates
            )
        } catch {
            try? server.stop()
            throw error
        }
        try server.stop()
        return result
    }
}

// MARK: serve (child process)

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve one echo server; prints `PORT <n>` on stdout once listening."
    )

    @Option(help: "Which server: raw, framerpc, rpc-server (= framerpc) or rpc-client (event-loop FrameRPC echo).")
    var kind: SystemKind

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to bind; 0 lets the system choose.")
    var port: Int = 0

    @Flag(help: "Exit when standard input reaches end of file (set by the parent process).")
    var exitOnStdinEof = false

    @Flag(help: "Run Swift concurrency on NIO's event loops (see `run --help`).")
    var nioExecutor = false

    @Option(name: .customLong("tls-dir"), help: "Folder with the certificates of a framerpc-mtls server (written by `run`).")
    var tlsDirectory: String?

    func run() async throws {
        if nioExecutor { try installNIOExecutor() }
        if exitOnStdinEof {
            Thread.detachNewThread {
                _ = FileHandle.standardInput.readDataToEndOfFile()
                Foundation.exit(0)
            }
        }
        switch kind {
        case .raw, .rpcClient:
            let channel = kind == .raw
                ? try await RawEchoServer.bind(host: host, port: port)
                : try await EventLoopFrameRPCServer.bind(host: host, port: port)
            announce(port: channel.localAddress?.port ?? 0)
            try await channel.closeFuture.get()
        case .framerpc, .framerpcLoop, .rpcServer, .framerpcTLS:
            var tls: RPCTLSConfiguration?
            if kind == .framerpcTLS {
                guard let tlsDirectory else { throw ValidationError("--kind framerpc-mtls needs --tls-dir") }
                tls = BenchCertificates(directory: tlsDirectory).server
            }
            let server = RPCServer(
                configuration: RPCServer.Configuration(host: host, port: port, tls: tls),
                services: [EchoService()]
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                announce(port: try await server.port)
                try await group.next()
            }
        }
    }

    private func announce(port: Int) {
        FileHandle.standardOutput.write(Data("PORT \(port)\n".utf8))
    }
}

// MARK: client (for profiling against a server started by hand)

struct Client: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive a server started with `serve` (for example under valgrind) and print its row."
    )

    @OptionGroup var options: LoadOptions

    @Option(help: "Which system to drive: raw, framerpc, rpc-server or rpc-client (see `run --help`).")
    var kind: SystemKind

    @Option(help: "The server's port.")
    var port: Int

    @Option(help: "The server's process id, to count its CPU time.")
    var serverPid: Int32?

    @Option(help: "Calls in flight on the one connection.")
    var concurrency: Int = 1

    @Option(name: .customLong("tls-dir"), help: "Folder with the certificates, for --kind framerpc-mtls.")
    var tlsDirectory: String?

    @Option(help: ArgumentHelp(
        "Make exactly this many calls, then print `calls <completed> errors <failed>` and exit (no timed window, no table).",
        discussion: "For instruction counts under valgrind (bench/callgrind.sh): raw, framerpc, framerpc-mtls and rpc-client."
    ))
    var calls: Int?

    func run() async throws {
        try options.installExecutorIfAsked()
        if let calls {
            let tls = tlsDirectory.map { BenchCertificates(directory: $0).client }
            let result = try await FixedCalls.run(
                kind: kind, host: options.host, port: port, payload: options.payload,
                concurrency: concurrency, calls: calls, tls: tls
            )
            print("calls \(result.completed) errors \(result.errors)")
            if result.errors > 0 { throw ExitCode(1) }
            return
        }
        let result = try await measure(
            system: kind, concurrency: concurrency, host: options.host,
            port: port, serverPID: serverPid, options: options,
            certificates: tlsDirectory.map(BenchCertificates.init(directory:))
        )
        let report = Report(
            build: buildMode, executor: options.nioExecutor ? "nio" : "default", host: options.host, payloadBytes: options.payloadSize,
            warmupSeconds: options.warmup, durationSeconds: options.duration, results: [result]
        )
        try options.emit(report)
    }
}
