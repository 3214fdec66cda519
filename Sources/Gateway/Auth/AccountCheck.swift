import FrameRPC
import ShopAuth
import Synchronization

/// Whether a verified token's account still stands behind it: the account
/// exists, is active, and its token version is the token's.
///
/// The user service raises an account's token version when it is
/// deactivated, its role changes or its password changes
/// (`GetAccountStatus`), so each of those ends every older token here, where
/// identity is established. Statuses are cached per user for
/// ``cacheDuration`` (``GatewayConfiguration/accountStatusCacheDuration``,
/// 2 s by default; zero asks on every request): a change takes effect on
/// the first request after at most that delay, on every gateway replica.
///
/// Fails closed: when the user service cannot answer and no fresh status
/// is cached, the request is 503, never let through unchecked.
public final class AccountCheck: Sendable {
    /// What decides whether a user's tokens are good.
    public struct Status: Sendable, Hashable {
        public var isActive: Bool
        public var tokenVersion: Int64

        public init(isActive: Bool, tokenVersion: Int64) {
            self.isActive = isActive
            self.tokenVersion = tokenVersion
        }
    }

    /// The account's status, `nil` when there is no such account.
    public typealias Lookup = @Sendable (_ userID: String) async throws -> Status?

    /// Cached statuses beyond this many are dropped (oldest first once the
    /// expired ones are gone), so memory stays bounded whatever the traffic.
    static let maximumCachedAccounts = 100_000

    public let cacheDuration: Duration
    private let lookup: Lookup
    private let now: @Sendable () -> ContinuousClock.Instant
    private let cache = Mutex<[String: (status: Status, fetched: ContinuousClock.Instant)]>([:])

    public init(
        cacheDuration: Duration,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        lookup: @escaping Lookup
    ) {
        self.cacheDuration = cacheDuration
        self.now = now
        self.lookup = lookup
    }

    /// Throws 401 unless `claims` still stand for an active account at its
    /// current token version; 503 when that cannot be found out.
    func verify(_ claims: AccessTokenClaims) async throws(GatewayError) {
        try await verify(userID: claims.userID, tokenVersion: claims.tokenVersion)
    }

    func verify(userID: String, tokenVersion: Int64) async throws(GatewayError) {
        let status = try await status(of: userID)
        guard let status, status.isActive, status.tokenVersion == tokenVersion else {
            throw .unauthenticated("the token is no longer valid; log in again")
        }
    }

    private func status(of userID: String) async throws(GatewayError) -> Status? {
        let now = now()
        if cacheDuration > .zero, let cached = cache.withLock({ $0[userID] }), now - cached.fetched < cacheDuration {
            return cached.status
        }
        let status: Status?
        do {
            status = try await lookup(userID)
        } catch {
            throw .unavailable("the token cannot be checked right now; try again shortly")
        }
        guard cacheDuration > .zero, let status else { return status }
        cache.withLock { cache in
            if cache.count >= Self.maximumCachedAccounts {
                cache = cache.filter { now - $0.value.fetched < cacheDuration }
                if cache.count >= Self.maximumCachedAccounts { cache.removeAll(keepingCapacity: true) }
            }
            cache[userID] = (status, now)
        }
        return status
    }
}
