import FrameRPC
import ServiceSupport
import Synchronization

/// Clients to one test service over mutual TLS, one per caller identity
/// (``TestPKI``), made on first use and shut down together: for tests that
/// call as several services, as the call policies require.
public final class ClientPool: Sendable {
    private let port: Int
    private let service: String
    private let clients = Mutex<[String: RPCClient]>([:])

    public init(port: Int, service: String) {
        self.port = port
        self.service = service
    }

    public func client(as caller: String) -> RPCClient {
        clients.withLock { clients in
            if let client = clients[caller] { return client }
            let client = RPCClient.testing(port: port, calling: service, as: caller)
            clients[caller] = client
            return client
        }
    }

    public func shutdown() {
        clients.withLock { $0.values.forEach { $0.shutdown() } }
    }
}

/// Runs service `name` alone (from `factory`, with a fresh data folder, the
/// test signing key and its own certificate), for tests of who may call it:
/// `body` gets a client as any identity it names, e.g. `as("order")`.
public func withServiceCalledAs<Client>(
    _ name: String,
    _ factory: ServiceFactory,
    client makeClient: @escaping (RPCClient) -> Client,
    _ body: (_ as: (String) -> Client) async throws -> Void
) async throws {
    let temporary = try TemporaryDirectory()
    defer { temporary.remove() }
    let environment = ServiceEnvironment(
        dataDirectory: temporary.path, settings: TestSigning.settings, tls: TestPKI.shared.server(as: name), logger: testLogger("\(name)-policy")
    )
    try await withRunningService(factory, environment: environment) { port in
        let clients = ClientPool(port: port, service: name)
        defer { clients.shutdown() }
        try await body { makeClient(clients.client(as: $0)) }
    }
}
