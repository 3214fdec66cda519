import ServiceSupport

/// How long a reservation may wait for its commit, and how often expired
/// ones are looked for.
///
/// From the settings `SHOP_RESERVATION_TTL_SECONDS` (default 900) and
/// `SHOP_RESERVATION_SWEEP_SECONDS` (default: half the TTL, at most 30).
/// Both take fractions of a second, so a test can expire reservations in a
/// moment. A reservation is released at most one sweep interval after its
/// TTL has passed.
struct ReservationPolicy: Sendable, Hashable {
    static let ttlKey = "SHOP_RESERVATION_TTL_SECONDS"
    static let sweepKey = "SHOP_RESERVATION_SWEEP_SECONDS"
    static let defaultTTLSeconds = 900.0
    static let maximumDefaultSweepSeconds = 30.0

    /// Seconds from Reserve until an uncommitted reservation expires.
    let ttlSeconds: Double
    /// Seconds between two sweeps.
    let sweepSeconds: Double

    init(ttlSeconds: Double, sweepSeconds: Double) {
        self.ttlSeconds = ttlSeconds
        self.sweepSeconds = sweepSeconds
    }

    /// Reads the policy from `SHOP_*` settings; a value that is not a
    /// positive number is a ``ConfigurationError`` naming the setting.
    init(environment: ServiceEnvironment) throws {
        let ttl = try Self.seconds(environment, Self.ttlKey) ?? Self.defaultTTLSeconds
        let sweep = try Self.seconds(environment, Self.sweepKey) ?? min(Self.maximumDefaultSweepSeconds, ttl / 2)
        self.init(ttlSeconds: ttl, sweepSeconds: sweep)
    }

    var sweepInterval: Duration { .milliseconds(Int64((sweepSeconds * 1_000).rounded(.up))) }

    private static func seconds(_ environment: ServiceEnvironment, _ key: String) throws -> Double? {
        guard let text = environment.setting(key) else { return nil }
        guard let value = Double(text), value.isFinite, value > 0, value <= 365 * 24 * 3_600 else {
            throw ConfigurationError("\(key) must be a positive number of seconds (at most a year), not '\(text)'")
        }
        return value
    }
}
