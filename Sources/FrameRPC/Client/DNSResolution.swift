import Logging
import Synchronization

/// The endpoints of a `dns://` target: every address of the name, looked up
/// again every ``RPCClient/Configuration-swift.struct/dnsRefreshInterval``
/// by ``refresh()`` (the balancer's refresh task calls it).
///
/// An address that stays in the answer keeps its subchannel and connection;
/// a new one gets a subchannel; one that left is dropped, and its
/// connection closes once the calls still using it have ended. A failed or
/// empty lookup keeps the last good endpoints (a DNS hiccup must not take
/// a healthy service away) and is retried after the connect backoff.
final class DNSResolution: Sendable {
    let host: String
    let port: Int
    private let configuration: RPCClient.Configuration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var subchannels: [Subchannel] = []
        /// Whether a lookup has finished, well or not.
        var looked = false
        var failures = 0
        var lastError: String?
        /// Calls waiting for the first lookup.
        var waiters: [CheckedContinuation<Void, Never>] = []
        var shutDown = false
    }

    init(host: String, port: Int, configuration: RPCClient.Configuration, logger: Logger) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.logger = logger
    }

    /// The endpoints now, without waiting (empty before the first answer).
    var snapshot: [Subchannel] {
        state.withLock { $0.subchannels }
    }

    /// The endpoints to pick from, waiting for the first lookup if it has
    /// not finished.
    ///
    /// - Throws: UNAVAILABLE (never processed) when the name has no
    ///   address yet, or when the client is shut down.
    func subchannels() async throws -> [Subchannel] {
        while true {
            enum Next { case use([Subchannel]), wait, fail(RPCError) }
            let next = state.withLock { state -> Next in
                if state.shutDown { return .fail(RPCClient.shutDownError) }
                if !state.subchannels.isEmpty { return .use(state.subchannels) }
                if !state.looked { return .wait }
                return .fail(RPCError(
                    code: .unavailable,
                    message: "cannot resolve \(name): \(state.lastError ?? "no addresses")"
                ).markedNeverProcessed())
            }
            switch next {
            case .use(let subchannels):
                return subchannels
            case .fail(let error):
                throw error
            case .wait:
                await withCheckedContinuation { continuation in
                    let waiting = state.withLock { state in
                        guard !state.looked, !state.shutDown else { return false }
                        state.waiters.append(continuation)
                        return true
                    }
                    if !waiting { continuation.resume() }
                }
            }
        }
    }

    /// `dns://host:port`.
    var name: String { RPCTarget.dns(host: host, port: port).description }

    /// Looks the name up once and installs the answer.
    ///
    /// - Returns: how long to wait before the next lookup.
    func refresh() async -> Duration {
        let answer: Result<[RPCAddress], any Error>
        do {
            let addresses = try await configuration.dnsLookup(host, port)
            answer = addresses.isEmpty ? .failure(DNSLookup.Failure(description: "no addresses")) : .success(addresses)
        } catch {
            answer = .failure(error)
        }
        let configuration = configuration
        let logger = logger
        let (waiters, change, failures) = state.withLock { state -> ([CheckedContinuation<Void, Never>], [RPCAddress]?, Int) in
            let waiters = state.waiters
            state.waiters = []
            state.looked = true
            guard !state.shutDown else { return (waiters, nil, 0) }
            switch answer {
            case .success(let addresses):
                state.failures = 0
                state.lastError = nil
                guard addresses != state.subchannels.map(\.address) else { return (waiters, nil, 0) }
                var kept = Dictionary(state.subchannels.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
                state.subchannels = addresses.map {
                    kept.removeValue(forKey: $0) ?? Subchannel(address: $0, configuration: configuration, logger: logger)
                }
                return (waiters, addresses, 0)
            case .failure(let error):
                state.failures += 1
                state.lastError = "\(error)"
                return (waiters, nil, state.failures)
            }
        }
        for waiter in waiters { waiter.resume() }
        if let change {
            logger.info("endpoints resolved", metadata: ["target": "\(name)", "endpoints": "\(change.map(\.description).joined(separator: ","))"])
        }
        guard failures > 0, case .failure(let error) = answer else { return configuration.dnsRefreshInterval }
        logger.warning("cannot resolve", metadata: ["target": "\(name)", "error": "\(error)"])
        return min(configuration.dnsRefreshInterval, configuration.backoff.delay(afterFailures: failures))
    }

    /// Shuts every endpoint down and wakes calls waiting for the first answer.
    func shutdown() {
        let (subchannels, waiters) = state.withLock { state in
            state.shutDown = true
            defer { state.waiters = [] }
            return (state.subchannels, state.waiters)
        }
        for subchannel in subchannels { subchannel.shutdown() }
        for waiter in waiters { waiter.resume() }
    }
}
