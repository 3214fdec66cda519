/// The secrets `shop up` uses on a laptop when none are configured, and the
/// rule that keeps them there.
///
/// They are public (they are in this repository), so anything they sign is
/// forgeable: a process refuses ``signingKey`` unless it was started in dev
/// mode (`SHOP_DEV_MODE=true`, which only `shop up` sets for its children).
public enum DevelopmentSecrets {
    /// The variable that marks a process as part of `shop up`'s dev mode.
    public static let devModeVariable = "SHOP_DEV_MODE"
    /// The development signing key (45 bytes).
    public static let signingKey = "shop-dev-mode-signing-key-NOT-FOR-PRODUCTION"
    /// The development admin account, created on first start.
    public static let adminEmail = "admin@shop.local"
    public static let adminPassword = "dev-admin-password"

    /// Whether `settings` (the `SHOP_*` variables) ask for dev mode.
    public static func isDevMode(_ settings: [String: String]) -> Bool {
        settings[devModeVariable].map { ["true", "1", "yes"].contains($0.lowercased()) } ?? false
    }

    /// Why `signingKey` may not be used under `settings`, or `nil` when it may.
    public static func refusal(ofSigningKey signingKey: String, settings: [String: String], variable: String) -> String? {
        guard signingKey == Self.signingKey, !isDevMode(settings) else { return nil }
        return "\(variable) is the public development key of `shop up`; outside dev mode set a secret of your own (at least 32 random bytes)"
    }
}
