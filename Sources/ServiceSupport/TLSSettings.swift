import FrameRPC

/// The three settings that give a process its FrameRPC identity, and the
/// rules around them.
///
/// `SHOP_TLS_CERT` (the process's certificate chain, PEM), `SHOP_TLS_KEY`
/// (its private key) and `SHOP_TLS_CA` (the CA certificates every peer's
/// chain must verify against). With them, the process serves and calls
/// FrameRPC over mutual TLS only; files are re-read when they change.
/// Without them a process refuses to start, unless it runs in `shop up`'s
/// dev mode (`SHOP_DEV_MODE`), which is confined to loopback.
public enum TLSSettings {
    public static let certificate = "SHOP_TLS_CERT"
    public static let privateKey = "SHOP_TLS_KEY"
    public static let trustRoots = "SHOP_TLS_CA"
    public static let all = [certificate, privateKey, trustRoots]

    /// The TLS configuration `settings` give, `nil` for plaintext (dev mode
    /// without TLS settings only).
    ///
    /// - Throws: ``ConfigurationError`` in one sentence naming what is
    ///   missing: some of the three but not all, or none outside dev mode.
    public static func configuration(from settings: [String: String]) throws -> RPCTLSConfiguration? {
        func value(_ key: String) -> String? { settings[key].flatMap { $0.isEmpty ? nil : $0 } }
        let missing = all.filter { value($0) == nil }
        if missing.isEmpty {
            return .files(certificateChain: value(certificate)!, privateKey: value(privateKey)!, trustRoots: value(trustRoots)!)
        }
        if missing.count == all.count, isDevMode(settings) { return nil }
        let flags = missing.map { "--" + $0.dropFirst("SHOP_".count).lowercased().replacingOccurrences(of: "_", with: "-") }
        throw ConfigurationError(
            "mutual TLS is required outside dev mode and \(list(missing)) \(missing.count == 1 ? "is" : "are") missing: set \(list(missing)) (or \(list(flags))) to this process's certificate, private key and CA files, e.g. from `shop certs --out DIR`"
        )
    }

    /// Why dev mode may not bind `host`, or `nil` when it may: its secrets
    /// and certificates are public, so it stays on loopback.
    public static func devModeHostProblem(host: String, settings: [String: String]) -> String? {
        guard isDevMode(settings), !isLoopback(host) else { return nil }
        return "dev mode (SHOP_DEV_MODE) uses public development secrets and only binds loopback addresses, not '\(host.prefix(64))'; configure real secrets and TLS settings to serve on other addresses"
    }

    /// `127.0.0.0/8`, `::1` and `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
    }

    /// Whether `settings` mark the process as part of `shop up`'s dev mode
    /// (`SHOP_DEV_MODE` true, 1 or yes: the same rule as the signing key's).
    public static func isDevMode(_ settings: [String: String]) -> Bool {
        settings["SHOP_DEV_MODE"].map { ["true", "1", "yes"].contains($0.lowercased()) } ?? false
    }

    private static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " and " + items.last!
        }
    }
}
