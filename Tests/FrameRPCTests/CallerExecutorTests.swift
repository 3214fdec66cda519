import FrameRPC
import NIOCore
import NIOPosix
import SwiftProtobuf
import Testing

/// ``RPCClient/callerExecutor``: tasks that make their calls on the
/// client's event loop, so a call never crosses between threads.
@Suite("Calls from the client's event loop")
struct CallerExecutorTests {
    @Test("a client on one event loop offers it to its callers; a client on a group of loops offers none")
    func executorOnlyForOneLoop() {
        var configuration = RPCClient.Configuration()
        configuration.eventLoopGroup = MultiThreadedEventLoopGroup.singleton.next()
        let pinned = RPCClient(host: "127.0.0.1", port: 1, configuration: configuration)
        let pooled = RPCClient(host: "127.0.0.1", port: 1)
        #expect(pinned.callerExecutor != nil)
        #expect(pooled.callerExecutor == nil)
    }

    @Test("calls from tasks on the callers' executor are answered, and each task resumes on the connection's event loop")
    func callsResumeOnTheLoop() async throws {
        let server = RPCServer(services: [FixtureService()])
        try await withRunningServer(server) { port throws in
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            var configuration = RPCClient.Configuration()
            configuration.eventLoopGroup = loop
            let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
            defer { client.shutdown() }
            let results = try await withThrowingTaskGroup(of: (answered: Bool, onLoop: Bool).self) { group in
                for index in 0..<20 {
                    group.addTask(executorPreference: client.callerExecutor) {
                        let answer = try await client.echo("call \(index)")
                        return (answer == "call \(index)", loop.inEventLoop)
                    }
                }
                var results: [(answered: Bool, onLoop: Bool)] = []
                for try await result in group { results.append(result) }
                return results
            }
            let answered = results.filter(\.answered).count
            let onLoop = results.filter(\.onLoop).count
            #expect(results.count == 20)
            #expect(answered == 20)
            #expect(onLoop == 20)
        }
    }
}
