import FrameRPC
@testable import Gateway
import ShopAuth
import Synchronization
import Testing

/// The gateway's check that a verified token's account still stands behind
/// it, with the account status given directly and a clock the test moves.
/// (The real `GetAccountStatus` path is in `TokenRevocationTests`.)
@Suite("Account check")
struct AccountCheckTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let current = Mutex(ContinuousClock.now)
        var now: ContinuousClock.Instant { current.withLock { $0 } }
        func advance(_ duration: Duration) { current.withLock { $0 += duration } }
    }

    /// Statuses by user id, and how often each was asked for.
    final class Accounts: Sendable {
        private let state = Mutex<(statuses: [String: AccountCheck.Status], asked: Int, failing: Bool)>(([:], 0, false))
        func set(_ id: String, _ status: AccountCheck.Status?) { state.withLock { $0.statuses[id] = status } }
        func fail(_ failing: Bool) { state.withLock { $0.failing = failing } }
        var asked: Int { state.withLock { $0.asked } }

        func lookup(_ id: String) throws -> AccountCheck.Status? {
            try state.withLock { state in
                state.asked += 1
                if state.failing { throw RPCError(code: .unavailable, message: "down") }
                return state.statuses[id]
            }
        }
    }

    private func claims(_ id: String, version: Int64) -> AccessTokenClaims {
        AccessTokenClaims(userID: id, role: .user, tokenVersion: version, issuedAt: .now, expiresAt: .now.addingTimeInterval(60))
    }

    private func status(_ check: AccountCheck, _ claims: AccessTokenClaims) async -> Int {
        do {
            try await check.verify(claims)
            return 200
        } catch {
            return Int(error.status.code)
        }
    }

    private func make(cache: Duration, _ accounts: Accounts, clock: ManualClock = ManualClock()) -> AccountCheck {
        AccountCheck(cacheDuration: cache, now: { clock.now }) { id in try accounts.lookup(id) }
    }

    @Test("a token of the account's current version and an active account passes")
    func currentVersionPasses() async {
        let accounts = Accounts()
        accounts.set("u", .init(isActive: true, tokenVersion: 3))
        #expect(await status(make(cache: .zero, accounts), claims("u", version: 3)) == 200)
    }

    @Test("an older version, a deactivated account or an unknown account is 401")
    func revokedIs401() async {
        let accounts = Accounts()
        accounts.set("old", .init(isActive: true, tokenVersion: 4))
        accounts.set("off", .init(isActive: false, tokenVersion: 0))
        let check = make(cache: .zero, accounts)
        #expect(await status(check, claims("old", version: 3)) == 401)
        #expect(await status(check, claims("off", version: 0)) == 401)
        #expect(await status(check, claims("gone", version: 0)) == 401)
    }

    @Test("when the user service cannot answer and nothing is cached, the request is 503, never let through")
    func failsClosed() async {
        let accounts = Accounts()
        accounts.set("u", .init(isActive: true, tokenVersion: 0))
        accounts.fail(true)
        #expect(await status(make(cache: .seconds(2), accounts), claims("u", version: 0)) == 503)
    }

    @Test("a status is trusted for the cache duration, then asked again")
    func cachedForTheDuration() async {
        let accounts = Accounts()
        let clock = ManualClock()
        accounts.set("u", .init(isActive: true, tokenVersion: 0))
        let check = make(cache: .seconds(2), accounts, clock: clock)
        #expect(await status(check, claims("u", version: 0)) == 200)
        accounts.set("u", .init(isActive: false, tokenVersion: 1))
        clock.advance(.milliseconds(1_999))
        #expect(await status(check, claims("u", version: 0)) == 200, "within the documented delay")
        #expect(accounts.asked == 1)
        clock.advance(.milliseconds(1))
        #expect(await status(check, claims("u", version: 0)) == 401, "after it")
        #expect(accounts.asked == 2)
    }

    @Test("with no cache every request asks")
    func zeroCacheAsksEveryTime() async {
        let accounts = Accounts()
        accounts.set("u", .init(isActive: true, tokenVersion: 0))
        let check = make(cache: .zero, accounts)
        for _ in 0..<3 { _ = await status(check, claims("u", version: 0)) }
        #expect(accounts.asked == 3)
    }
}
