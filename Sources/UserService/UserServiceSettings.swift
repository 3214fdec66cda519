import ServiceSupport
import ShopAuth

/// The user service's `SHOP_*` settings, read and checked before anything
/// else starts, so that a mistake stops the process with a clear message.
///
/// | setting | meaning |
/// | --- | --- |
/// | `SHOP_SIGNING_KEY` | required; the HS256 secret shared with the gateway and every service, at least 32 bytes |
/// | `SHOP_TOKEN_TTL_SECONDS` | access token lifetime; default 3600, at most 86400 (a day) |
/// | `SHOP_ADMIN_EMAIL`, `SHOP_ADMIN_PASSWORD` | both or neither: the first admin, created at start when no user has that email |
/// | `SHOP_PASSWORD_ROUNDS` | PBKDF2 rounds for new hashes; default and minimum 600,000 |
/// | `SHOP_PASSWORD_QUEUE` | password hashes that may wait for a hashing thread; beyond that, or when a call's deadline would pass first, RESOURCE_EXHAUSTED at once; default 256 |
/// | `SHOP_TEST_ONLY_ALLOW_WEAK_PASSWORD_ROUNDS` | `true` lets `SHOP_PASSWORD_ROUNDS` go below 600,000 (down to 1): for test suites only, which would otherwise spend most of their time hashing |
///
/// Secrets are never part of an error message.
struct UserServiceSettings: Sendable {
    static let signingKey = ServiceEnvironment.signingKeySetting
    static let tokenLifetime = "SHOP_TOKEN_TTL_SECONDS"
    static let adminEmail = "SHOP_ADMIN_EMAIL"
    static let adminPassword = "SHOP_ADMIN_PASSWORD"
    static let passwordRounds = "SHOP_PASSWORD_ROUNDS"
    static let allowWeakRounds = "SHOP_TEST_ONLY_ALLOW_WEAK_PASSWORD_ROUNDS"
    static let passwordQueue = "SHOP_PASSWORD_QUEUE"

    static let defaultTokenLifetime = 3600
    /// The longest lifetime accepted: a day. Deactivation, role and password
    /// changes end a token sooner (its version), but a leaked token must not
    /// stay good for years either.
    static let maximumTokenLifetime = 86_400

    /// The first admin's credentials.
    struct Admin: Sendable {
        let email: EmailAddress
        let password: String
    }

    let signingKey: String
    /// Seconds; fits the `expires_in` field (Int32).
    let tokenLifetime: Int
    let passwordRounds: Int
    /// Hashing jobs that may wait (``BlockingWorkPool``).
    let passwordQueue: Int
    let admin: Admin?

    init(_ environment: ServiceEnvironment) throws {
        signingKey = try environment.signingKey()

        if let text = environment.setting(Self.tokenLifetime) {
            guard let seconds = Int(text), seconds > 0 else {
                throw ConfigurationError("\(Self.tokenLifetime) must be a whole number of seconds between 1 and \(Self.maximumTokenLifetime), not '\(text.prefix(64))'")
            }
            guard seconds <= Self.maximumTokenLifetime else {
                throw ConfigurationError("\(Self.tokenLifetime) is \(seconds) seconds; access tokens may live at most \(Self.maximumTokenLifetime) seconds (a day)")
            }
            tokenLifetime = seconds
        } else {
            tokenLifetime = Self.defaultTokenLifetime
        }

        let weakAllowed = environment.setting(Self.allowWeakRounds).map { ["true", "1", "yes"].contains($0.lowercased()) } ?? false
        if let text = environment.setting(Self.passwordRounds) {
            let minimum = weakAllowed ? 1 : PasswordHasher.productionRounds
            guard let rounds = Int(text), rounds >= minimum, rounds <= PasswordHasher.maximumRounds else {
                throw ConfigurationError(
                    "\(Self.passwordRounds) must be between \(minimum) and \(PasswordHasher.maximumRounds), not '\(text)'"
                        + (weakAllowed ? "" : " (fewer than \(PasswordHasher.productionRounds) only with \(Self.allowWeakRounds)=true, for tests)")
                )
            }
            passwordRounds = rounds
        } else {
            passwordRounds = PasswordHasher.productionRounds
        }

        if let text = environment.setting(Self.passwordQueue) {
            guard let queue = Int(text), (1...100_000).contains(queue) else {
                throw ConfigurationError("\(Self.passwordQueue) must be a whole number between 1 and 100000, not '\(text.prefix(64))'")
            }
            passwordQueue = queue
        } else {
            passwordQueue = BlockingWorkPool.defaultMaximumPending
        }

        switch (environment.setting(Self.adminEmail), environment.setting(Self.adminPassword)) {
        case (nil, nil):
            admin = nil
        case (.some, nil):
            throw ConfigurationError("\(Self.adminEmail) is set but \(Self.adminPassword) is not: set both to create the first admin, or neither")
        case (nil, .some):
            throw ConfigurationError("\(Self.adminPassword) is set but \(Self.adminEmail) is not: set both to create the first admin, or neither")
        case (.some(let email), .some(let password)):
            guard let address = try? EmailAddress(validating: email) else {
                throw ConfigurationError("\(Self.adminEmail) is not a valid email address")
            }
            guard password.count >= UserRules.minimumPasswordLength else {
                throw ConfigurationError("\(Self.adminPassword) must be at least \(UserRules.minimumPasswordLength) characters")
            }
            admin = Admin(email: address, password: password)
        }
    }
}
