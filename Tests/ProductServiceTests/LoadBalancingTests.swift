import FrameRPC
import ProductService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

/// Two instances of the real product service on one data folder, behind
/// one balanced client: how calls spread, and where they go when an
/// instance stops and comes back.
@Suite("Two product instances behind one client")
struct LoadBalancingTests {
    static func environment(_ folder: TemporaryDirectory) -> ServiceEnvironment {
        ServiceEnvironment(dataDirectory: folder.path, tls: TestPKI.shared.server(as: "product"), logger: testLogger("product-balancing"))
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    /// Makes `count` calls, `concurrency` at a time; returns how many failed.
    static func calls(_ client: ProductServiceClient, count: Int, concurrency: Int = 4, id: String) async -> Int {
        await withTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var failures = 0
                    for _ in stride(from: worker, to: count, by: concurrency) {
                        do {
                            _ = try await client.get(id)
                        } catch {
                            failures += 1
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
    }

    @Test("calls spread over both instances, each getting a fair share")
    func spread() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let first = CallCounter()
        let second = CallCounter()
        try await withRunningService(ProductServiceApp.factory, environment: Self.environment(folder), interceptors: [first]) { firstPort in
            try await withRunningService(ProductServiceApp.factory, environment: Self.environment(folder), interceptors: [second]) { secondPort in
                // As a service gets its clients: from its environment (the
                // gateway's identity: it is the one creating and reading products).
                let caller = ServiceEnvironment(
                    dataDirectory: folder.path,
                    upstreamTargets: ["product": try RPCTarget(parsing: "127.0.0.1:\(firstPort),127.0.0.1:\(secondPort)")],
                    tls: TestPKI.shared.server(as: "gateway")
                )
                let rpc = try caller.client(for: "product")
                defer { rpc.shutdown() }
                let client = ProductServiceClient(rpc)
                let product = try await client.create("Teapot")
                let failures = await Self.calls(client, count: 400, id: product.id)
                #expect(failures == 0)
                let served = (first.count(of: ProductServiceMethod.getProduct), second.count(of: ProductServiceMethod.getProduct))
                #expect(served.0 + served.1 == 400)
                // An even split is 200 each; a quarter either way is far outside chance.
                #expect(served.0 >= 100 && served.1 >= 100, "\(served)")
            }
        }
    }

    @Test("with one instance stopped, every call succeeds on the other; when it comes back, traffic returns")
    func stopAndReturn() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let survivor = CallCounter()
        let returning = CallCounter()
        try await withRunningService(ProductServiceApp.factory, environment: Self.environment(folder), interceptors: [survivor]) { survivorPort in
            // Outside the ephemeral range, so no other test takes it while the instance is down.
            let secondPort = try restartablePort()
            let rpc = RPCClient(target: .addresses([
                RPCAddress(host: "127.0.0.1", port: survivorPort),
                RPCAddress(host: "127.0.0.1", port: secondPort),
            ]), configuration: RPCClient.Configuration(tls: TestPKI.shared.client(as: "gateway", calling: "product")))
            defer { rpc.shutdown() }
            let client = ProductServiceClient(rpc)
            let product = try await client.create("Kettle")

            // Both up: both get calls.
            try await withRunningService(
                ProductServiceApp.factory,
                environment: Self.environment(folder),
                at: ServiceEndpoint(host: "127.0.0.1", port: secondPort),
                interceptors: [returning]
            ) { _ in
                // It may still be backing off from the create, made before it started.
                let reached = await Self.eventually {
                    _ = try? await client.get(product.id)
                    return returning.count(of: ProductServiceMethod.getProduct) > 0
                }
                #expect(reached)
                #expect(await Self.calls(client, count: 100, id: product.id) == 0)
            }
            // Stopped: once the client has seen its connection go, every call succeeds on the survivor.
            let noticed = await Self.eventually {
                rpc.endpoints.first { $0.address.port == secondPort }?.connectivity != .ready
            }
            #expect(noticed)
            let before = (survivor.count(of: ProductServiceMethod.getProduct), returning.count(of: ProductServiceMethod.getProduct))
            #expect(await Self.calls(client, count: 200, id: product.id) == 0)
            #expect(survivor.count(of: ProductServiceMethod.getProduct) == before.0 + 200)
            #expect(returning.count(of: ProductServiceMethod.getProduct) == before.1)

            // Back on the same port: calls reach it again once its backoff is over.
            try await withRunningService(
                ProductServiceApp.factory,
                environment: Self.environment(folder),
                at: ServiceEndpoint(host: "127.0.0.1", port: secondPort),
                interceptors: [returning]
            ) { _ in
                let back = await Self.eventually {
                    _ = try? await client.get(product.id)
                    return returning.count(of: ProductServiceMethod.getProduct) > before.1
                }
                #expect(back)
                let returned = returning.count(of: ProductServiceMethod.getProduct)
                #expect(await Self.calls(client, count: 200, id: product.id) == 0)
                #expect(returning.count(of: ProductServiceMethod.getProduct) - returned >= 50)
            }
        }
    }
}
