import FrameRPC

/// One process of the system as the supervisor runs it: what to start and
/// how to know it is ready.
public struct ChildSpec: Sendable {
    /// How the supervisor knows a started child is ready to serve.
    public enum Readiness: Sendable {
        /// It answers the FrameRPC health RPC at this port on the host.
        case healthRPC(host: String, port: Int)
        /// It prints a line starting with `ready` (the gateway does once it
        /// listens).
        case readyLine
    }

    /// The short name its log lines are prefixed with (`user`, `gateway`).
    public var name: String
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var readiness: Readiness
    /// How the supervisor's health probes connect (``Readiness/healthRPC(host:port:)``):
    /// mutual TLS with these files, or plaintext when `nil`.
    public var probeTLS: RPCTLSConfiguration?

    public init(
        name: String,
        executable: String,
        arguments: [String],
        environment: [String: String],
        readiness: Readiness,
        probeTLS: RPCTLSConfiguration? = nil
    ) {
        self.probeTLS = probeTLS
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.readiness = readiness
    }
}
