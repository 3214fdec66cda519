import Foundation
import RESTTranscoding

/// What stands before the routes that make the user service hash a
/// password for an anonymous caller (`POST /api/auth/login` and
/// `POST /api/users/`: the public routes whose request has a `password`).
///
/// Why: without it, guesses at one account are limited only by PBKDF2's
/// cost, and a few hundred logins at once fill the user service's hashing
/// queue. Three bounds, checked in this order:
/// 1. **per client address**, a ``TokenBucket`` (before the body is read):
///    one client cannot make unlimited attempts, whatever accounts it names;
/// 2. **per account** (the request's `email`, trimmed, lower-cased, NFC as
///    the user service stores it), a ``TokenBucket`` whose token a
///    successful attempt gets back, so it counts failed guesses: a
///    password cannot be brute-forced from many addresses either;
/// 3. **hashing calls in flight** from this gateway: beyond the cap the
///    gateway answers 429 at once instead of queueing work the user service
///    could not do before the deadline. (The user service refuses such work
///    itself too, for the case of several gateways.)
///
/// Each refusal is 429 RESOURCE_EXHAUSTED with `Retry-After`; the state is
/// bounded (``RateLimiter``).
struct PasswordRouteGuard: Sendable {
    struct Policy: Sendable, Hashable {
        var perAddress = TokenBucket.Policy(capacity: 30, refillPerMinute: 30)
        var perAccount = TokenBucket.Policy(capacity: 10, refillPerMinute: 5)
        /// Buckets each limiter keeps at most.
        var maximumKeys = 100_000
        var maximumHashingCalls = 16

        var problems: [String] {
            var problems = perAddress.problems + perAccount.problems
            if maximumKeys < 1 { problems.append("the rate limiter keys must be at least 1") }
            if maximumHashingCalls < 1 { problems.append("the hashing calls in flight must be at least 1") }
            return problems
        }
    }

    /// The request field that names the account.
    static let accountField = "email"
    /// The request field whose presence makes a public route a hashing one.
    static let passwordField = "password"

    let addresses: RateLimiter
    let accounts: RateLimiter
    let hashing: InFlightLimiter

    init(policy: Policy) {
        addresses = RateLimiter(policy: policy.perAddress, maximumKeys: policy.maximumKeys)
        accounts = RateLimiter(policy: policy.perAccount, maximumKeys: policy.maximumKeys)
        hashing = InFlightLimiter(limit: policy.maximumHashingCalls)
    }

    /// Whether `route` is one this guard stands before.
    static func guards(_ route: RESTRoute) -> Bool {
        route.auth == .public && route.body != .none && route.requestFields.contains(passwordField)
    }

    /// Takes the client address's token.
    func admit(address: String) throws(GatewayError) {
        if let wait = addresses.take(address) {
            throw .tooManyRequests("too many sign-in attempts from your address; try again later", retryAfter: wait)
        }
    }

    /// Takes the account's token; returns the account's key, for
    /// ``succeeded(account:)``.
    func admit(email: String) throws(GatewayError) -> String {
        let account = Self.accountKey(email)
        if let wait = accounts.take(account) {
            throw .tooManyRequests("too many sign-in attempts for this account; try again later", retryAfter: wait)
        }
        return account
    }

    /// A successful attempt does not count against its account.
    func succeeded(account: String) {
        accounts.giveBack(account)
    }

    /// Runs the upstream call holding one of the hashing slots.
    func withHashingSlot<T>(_ body: () async throws -> T) async throws -> T {
        guard hashing.tryAcquire() else {
            throw GatewayError.tooManyRequests("too many password checks in progress; try again shortly")
        }
        defer { hashing.release() }
        return try await body()
    }

    /// The account as the user service stores its email: trimmed,
    /// lower-cased, NFC (bounded first: no address is longer).
    static func accountKey(_ email: String) -> String {
        let bounded = email.utf8.count > 1024 ? String(decoding: email.utf8.prefix(1024), as: UTF8.self) : email
        return bounded.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().precomposedStringWithCanonicalMapping
    }
}
