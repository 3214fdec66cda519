import FrameRPC
import Foundation
import ShopAPI
import Synchronization
import Testing

/// Password hashing at production cost must not take the service's threads
/// away from reads.
@Suite("Reads during registrations")
struct HashingLoadTests {
    /// Durations of `count` GetUser calls made one after another, sorted.
    static func readLatencies(_ client: UserServiceClient, id: String, count: Int) async throws -> [Duration] {
        let clock = ContinuousClock()
        var latencies: [Duration] = []
        // One token for all reads: minting one is not what is measured.
        let options = try await Fixture.asAdmin()
        for _ in 0..<count {
            let start = clock.now
            _ = try await client.getUser(.with { $0.id = id }, options: options)
            latencies.append(clock.now - start)
        }
        return latencies.sorted()
    }

    static func percentile(_ sorted: [Duration], _ fraction: Double) -> Duration {
        sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    @Test("while clients register users in a loop (600,000 rounds), reads keep their latency")
    func readsKeepLatency() async throws {
        try await withUserService(settings: Fixture.productionSettings) { client throws in
            let clock = ContinuousClock()
            let reader = try await client.register()

            // What one registration costs on this machine, alone.
            let start = clock.now
            _ = try await client.register()
            let registration = clock.now - start

            let baseline = try await Self.readLatencies(client, id: reader.id, count: 50)

            // Four clients registering back to back: more hashing than the
            // machine has cores to spare.
            let registered = Counter()
            let loaded = try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        while !Task.isCancelled {
                            do {
                                _ = try await client.register(email: Fixture.newEmail("load"))
                                registered.increment()
                            } catch {
                                if Task.isCancelled { return }
                                // A registration queued behind the others may
                                // outlast its deadline; that is load, not a failure.
                                guard (error as? RPCError)?.code == .deadlineExceeded else { throw error }
                            }
                        }
                    }
                }
                // Read for at least four registrations' time: the four
                // clients keep the hashing thread busy throughout.
                var latencies: [Duration] = []
                let readStart = clock.now
                while latencies.count < 50 || clock.now - readStart < registration * 4 {
                    latencies += try await Self.readLatencies(client, id: reader.id, count: 10)
                }
                group.cancelAll()
                return latencies.sorted()
            }

            let baselineMedian = Self.percentile(baseline, 0.5)
            let loadedMedian = Self.percentile(loaded, 0.5)
            let loadedP90 = Self.percentile(loaded, 0.9)
            print("registration alone: \(registration); reads alone: median \(baselineMedian); during registrations: median \(loadedMedian), p90 \(loadedP90), max \(loaded.last!), \(loaded.count) reads, \(registered.value) registrations")
            #expect(registered.value >= 1, "registrations completed meanwhile")
            // Were hashing to hold the threads that serve reads, a read would
            // wait for a whole derivation: about one registration's time.
            #expect(loadedP90 < registration / 5)
            #expect(loadedMedian < max(.milliseconds(20), baselineMedian * 10))
        }
    }
}

/// A thread-safe count.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
