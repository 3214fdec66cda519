import FrameRPC
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
