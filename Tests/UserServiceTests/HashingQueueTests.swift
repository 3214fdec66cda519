import FrameRPC
import Foundation
import ServiceTesting
import ShopAPI
import Synchronization
import Testing

/// Issue 11, item 3, at the user service: a hashing queue that fills
/// refuses at once instead of letting callers wait past their deadline.
@Suite("The hashing queue under a login flood")
struct HashingQueueTests {
    @Test("a hundred concurrent logins (600,000 rounds, 2 s deadlines) end in answers or fast RESOURCE_EXHAUSTED rather than timeouts; reads stay served")
    func floodIsRefusedFast() async throws {
        try await withUserService(settings: Fixture.productionSettings) { client throws in
            let reader = try await client.register()
            // One login alone, so the queue knows what a hash costs here.
            _ = try await client.login(reader.email)

            let codes = Tally<[String: Int]>([:])
            let slowest = Tally<Duration>(.zero)
            let readFailures = Tally(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let clock = ContinuousClock()
                        let start = clock.now
                        let error = await rpcError {
                            _ = try await client.login(
                                .with { $0.email = "guess-\(index)@example.com"; $0.password = "not-the-password" },
                                options: CallOptions(timeout: .seconds(2))
                            )
                        }
                        let elapsed = clock.now - start
                        slowest.withLock { $0 = max($0, elapsed) }
                        codes.withLock { $0[error?.code.name ?? "OK", default: 0] += 1 }
                    }
                }
                group.addTask {
                    for _ in 0..<20 {
                        if await rpcError({ _ = try await client.user(reader.id) }) != nil { readFailures.withLock { $0 += 1 } }
                        try await Task.sleep(for: .milliseconds(25))
                    }
                }
                try await group.waitForAll()
            }
            let counted = codes.withLock { $0 }
            let slowestLogin = slowest.withLock { $0 }
            let failedReads = readFailures.withLock { $0 }
            print("logins by outcome: \(counted); slowest \(slowestLogin)")
            // Without the bound nearly all of them wait for their deadline
            // (two seconds hold a few hashes here); with it, only a
            // job the machine's load slowed past its estimate can.
            #expect(counted["DEADLINE_EXCEEDED", default: 0] <= 10)
            #expect(counted["RESOURCE_EXHAUSTED", default: 0] >= 50)
            #expect(counted["UNAUTHENTICATED", default: 0] > 0)
            #expect(failedReads == 0)
            // The service is fine afterwards.
            _ = try await client.login(reader.email)
        }
    }
}

/// A value behind a lock that concurrent test closures may share.
final class Tally<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) { storage = Mutex(value) }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        storage.withLock { body(&$0) }
    }
}
