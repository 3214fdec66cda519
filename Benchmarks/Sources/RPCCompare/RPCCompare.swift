import ArgumentParser

/// `rpc-compare`: FrameRPC, grpc-swift-2 and the raw SwiftNIO floor side by
/// side, each point with a fresh server process and a fresh client process.
@main
struct RPCCompare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc-compare",
        abstract: "FrameRPC against grpc-swift-2 and the raw SwiftNIO floor: unary echo on 127.0.0.1.",
        discussion: """
            With no subcommand, runs every point: for each payload size, concurrency, connection \
            count and system it starts `rpc-compare serve` and `rpc-compare drive` as two separate \
            processes, measures calls/s, latency percentiles, CPU per call and peak RSS of each \
            process (getrusage), and prints the table, the FrameRPC/grpc-swift-2 and FrameRPC/floor \
            ratios and the issue's targets as met or missed. Build with -c release.
            """,
        subcommands: [Run.self, Serve.self, Drive.self],
        defaultSubcommand: Run.self
    )
}

#if DEBUG
let buildMode = "debug"
#else
let buildMode = "release"
#endif
