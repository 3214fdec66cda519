import Synchronization

/// Open connections per client address, capped.
///
/// Why: each connection costs memory, and a request being received holds
/// an in-flight slot; one address opening a thousand connections could
/// take every slot. Beyond ``maximumPerAddress`` a new connection from that
/// address is closed as soon as it is accepted, while other addresses are
/// served as before. The map holds only addresses with open connections.
final class ConnectionLimiter: Sendable {
    let maximumPerAddress: Int
    private let counts = Mutex<[String: Int]>([:])

    init(maximumPerAddress: Int) {
        precondition(maximumPerAddress >= 1)
        self.maximumPerAddress = maximumPerAddress
    }

    /// Counts a new connection from `address`; `false` (and not counted)
    /// when the address has its maximum open already.
    func open(from address: String) -> Bool {
        let maximum = maximumPerAddress
        return counts.withLock { counts in
            let open = counts[address, default: 0]
            guard open < maximum else { return false }
            counts[address] = open + 1
            return true
        }
    }

    /// A connection counted by ``open(from:)`` closed.
    func close(from address: String) {
        counts.withLock { counts in
            let left = counts[address, default: 1] - 1
            counts[address] = left > 0 ? left : nil
        }
    }

    /// Connections open from `address` now.
    func openConnections(from address: String) -> Int {
        counts.withLock { $0[address, default: 0] }
    }
}
