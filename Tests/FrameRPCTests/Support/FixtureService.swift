import FrameRPC
import Foundation
import SwiftProtobuf
import Synchronization


/// Records what handlers saw, so tests can wait for "the handler was
/// cancelled" instead of guessing with sleeps.
final class HandlerProbe: Sendable {
    private let events = Mutex<[String]>([])
    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: String.self)
    }

    func record(_ event: String) {
        events.withLock { $0.append(event) }
        continuation.yield(event)
    }

    var recorded: [String] { events.withLock { $0 } }

    /// Waits until `event` is recorded, or `timeout` passes; true if it was.
    func wait(for event: String, timeout: Duration = .seconds(5)) async -> Bool {
        if recorded.contains(event) { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await seen in self.stream where seen == event { return true }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next()!
            group.cancelAll()
            return first || self.recorded.contains(event)
        }
    }
}

/// The service most tests drive: echo, slow calls, streams, and views of the
/// call's context.
struct FixtureService: RPCService {
    static let echo = "/test.v1.Test/Echo"
    static let slow = "/test.v1.Test/Slow"
    static let stubborn = "/test.v1.Test/Stubborn"
    static let count = "/test.v1.Test/Count"
    static let forever = "/test.v1.Test/Forever"
    static let remainingBudget = "/test.v1.Test/RemainingBudget"
    static let metadataValue = "/test.v1.Test/MetadataValue"
    static let fail = "/test.v1.Test/Fail"

    let probe: HandlerProbe

    init(probe: HandlerProbe = HandlerProbe()) {
        self.probe = probe
    }

    func registerMethods(with router: inout RPCRouter) {
        let probe = probe
        router.registerUnary(Self.echo) { (request: Google_Protobuf_StringValue, _) -> Google_Protobuf_StringValue in
            request
        }
        // Sleeps for the requested milliseconds; records whether it was cancelled.
        router.registerUnary(Self.slow) { (request: Google_Protobuf_Int64Value, _) -> Google_Protobuf_Int64Value in
            probe.record("slow started")
            do {
                try await Task.sleep(for: .milliseconds(request.value))
            } catch {
                probe.record("slow cancelled")
                throw error
            }
            probe.record("slow finished")
            return request
        }
        // Ignores cancellation, so only the server's own deadline can answer.
        router.registerUnary(Self.stubborn) { (request: Google_Protobuf_Int64Value, _) -> Google_Protobuf_Int64Value in
            let end = ContinuousClock.now + .milliseconds(request.value)
            while ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
            probe.record("stubborn finished")
            return request
        }
        router.registerServerStreaming(Self.count) { (request: Google_Protobuf_Int64Value, writer: RPCWriter<Google_Protobuf_StringValue>, _) in
            for index in 0..<request.value {
                try await writer.write(.with { $0.value = "\(index)" })
            }
        }
        router.registerServerStreaming(Self.forever) { (_: Google_Protobuf_Int64Value, writer: RPCWriter<Google_Protobuf_StringValue>, _) in
            probe.record("forever started")
            do {
                var index = 0
                while true {
                    try await writer.write(.with { $0.value = "\(index)" })
                    index += 1
                    try await Task.sleep(for: .milliseconds(5))
                }
            } catch {
                probe.record("forever cancelled")
                throw error
            }
        }
        // The handler's remaining budget in milliseconds, or -1 without a deadline.
        router.registerUnary(Self.remainingBudget) { (_: Google_Protobuf_Int64Value, context) -> Google_Protobuf_Int64Value in
            guard let deadline = context.deadline else { return .with { $0.value = -1 } }
            let remaining = deadline - .now
            return .with { $0.value = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 }
        }
        router.registerUnary(Self.metadataValue) { (request: Google_Protobuf_StringValue, context) -> Google_Protobuf_StringValue in
            .with { $0.value = context.metadata[request.value] ?? "<absent>" }
        }
        router.registerUnary(Self.fail) { (request: Google_Protobuf_StringValue, _) -> Google_Protobuf_StringValue in
            throw RPCError(code: .failedPrecondition, message: request.value)
        }
    }
}
