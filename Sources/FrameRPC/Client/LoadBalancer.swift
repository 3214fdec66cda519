import Logging

/// The endpoints of one client's target, and which one a call goes to.
///
/// A call goes, by power of two random choices on calls in flight
/// (``PowerOfTwoChoices``), to an endpoint that is not backing off after a
/// failed connect; one the call already tried is avoided while another will
/// do. When every endpoint is backing off, the call goes to the one whose
/// backoff ends first, which fails it at once with UNAVAILABLE saying when
/// it will try again: fail fast, as a one-address client always has, rather
/// than queue calls on a dead service. A target of one address skips the
/// choice altogether, so it costs what the single-connection client did.
///
/// A `dns://` target's endpoints come from a ``DNSResolution`` that a task
/// owned by the balancer refreshes; the task ends when the balancer is shut
/// down or released.
final class LoadBalancer: Sendable {
    /// The endpoints of a static target, fixed for the client's life and
    /// read without a lock.
    private let fixed: [Subchannel]?
    private let resolution: DNSResolution?
    private let refresher: Task<Void, Never>?
    private let random = PickRandom()
    /// False for a balancer that borrows an endpoint of another client (a
    /// pinned client): it must not shut that endpoint down.
    private let ownsEndpoints: Bool

    init(target: RPCTarget, configuration: RPCClient.Configuration, logger: Logger) {
        ownsEndpoints = true
        switch target {
        case .addresses(let addresses):
            fixed = addresses.map { Subchannel(address: $0, configuration: configuration, logger: logger) }
            resolution = nil
            refresher = nil
        case .dns(let host, let port):
            let resolution = DNSResolution(host: host, port: port, configuration: configuration, logger: logger)
            fixed = nil
            self.resolution = resolution
            // Holds the resolution weakly: a client nobody uses any more
            // ends its refreshing, even without shutdown().
            refresher = Task { [weak resolution] in
                while !Task.isCancelled {
                    guard let wait = await resolution?.refresh() else { return }
                    try? await Task.sleep(for: wait)
                }
            }
        }
    }

    /// A balancer over one endpoint of another client.
    init(borrowing subchannel: Subchannel) {
        ownsEndpoints = false
        fixed = [subchannel]
        resolution = nil
        refresher = nil
    }

    deinit {
        refresher?.cancel()
        resolution?.shutdown()
    }

    /// The endpoints now, without waiting for a first DNS answer.
    var snapshot: [Subchannel] {
        fixed ?? resolution?.snapshot ?? []
    }

    /// The endpoint a static target's call goes to, picked without
    /// suspending; `nil` for a `dns://` target (``pick(avoiding:where:)``
    /// waits for its first answer) or when every endpoint was tried.
    func pickNow(avoiding tried: [Subchannel]) -> Subchannel? {
        guard let fixed else { return nil }
        return choose(from: fixed, avoiding: tried, where: { _ in true })
    }

    /// Picks the endpoint for one attempt of a call.
    ///
    /// - Parameters:
    ///   - tried: endpoints this call already failed on before being sent.
    ///   - allowed: endpoints that may be picked at all (the gateway leaves
    ///     out those whose circuit is open).
    /// - Returns: `nil` when `allowed` leaves none.
    /// - Throws: UNAVAILABLE when a DNS name has no address, or the client
    ///   is shut down.
    func pick(avoiding tried: [Subchannel] = [], where allowed: (Subchannel) -> Bool = { _ in true }) async throws -> Subchannel? {
        let list: [Subchannel]
        if let fixed {
            list = fixed
        } else if let resolution {
            list = try await resolution.subchannels()
        } else {
            list = []
        }
        return choose(from: list, avoiding: tried, where: allowed)
    }

    private func choose(from list: [Subchannel], avoiding tried: [Subchannel], where allowed: (Subchannel) -> Bool) -> Subchannel? {
        if list.count == 1 { return allowed(list[0]) ? list[0] : nil }
        let random = random.next()
        let load = { (index: Int) in list[index].load }
        if let index = PowerOfTwoChoices.pick(
            count: list.count,
            random: random,
            isEligible: { allowed(list[$0]) && list[$0].isAvailable && !tried.contains(list[$0]) },
            load: load
        ) {
            return list[index]
        }
        if !tried.isEmpty, let index = PowerOfTwoChoices.pick(
            count: list.count,
            random: random,
            isEligible: { allowed(list[$0]) && list[$0].isAvailable },
            load: load
        ) {
            return list[index]
        }
        // None available: the least bad, which fails fast saying when it retries.
        return list.filter(allowed).min { $0.backoffEndsAt < $1.backoffEndsAt }
    }

    /// Whether an endpoint other than those `tried` could take a call now:
    /// what decides if a call that was never sent goes elsewhere.
    func hasAlternative(avoiding tried: [Subchannel]) -> Bool {
        let list = snapshot
        guard list.count > 1 else { return false }
        return list.contains { $0.isAvailable && !tried.contains($0) }
    }

    /// Shuts every endpoint down (not a borrowed one) and stops refreshing.
    func shutdown() {
        guard ownsEndpoints else { return }
        refresher?.cancel()
        for subchannel in fixed ?? [] { subchannel.shutdown() }
        resolution?.shutdown()
    }
}

extension [Subchannel] {
    /// By identity: the same endpoint, not an equal address.
    func contains(_ subchannel: Subchannel) -> Bool {
        contains { $0 === subchannel }
    }
}
