import ShopAuth

extension ServiceEnvironment {
    /// The HS256 secret of the access tokens: the user service signs with
    /// it, the gateway and every service verify with it.
    public static let signingKeySetting = "SHOP_SIGNING_KEY"

    /// `SHOP_SIGNING_KEY`, checked: present, at least
    /// ``TokenAuthority/minimumKeyByteCount`` bytes, and not the public
    /// development key outside dev mode. Never part of an error message.
    ///
    /// - Throws: ``ConfigurationError`` saying what is wrong.
    public func signingKey() throws -> String {
        let name = Self.signingKeySetting
        guard let key = setting(name) else {
            throw ConfigurationError("\(name) is required: the HS256 secret of access tokens, at least \(TokenAuthority.minimumKeyByteCount) bytes, the same for the gateway and every service (each verifies the tokens it is given)")
        }
        guard key.utf8.count >= TokenAuthority.minimumKeyByteCount else {
            throw ConfigurationError("\(name) is too short: \(key.utf8.count) bytes, at least \(TokenAuthority.minimumKeyByteCount) needed")
        }
        if let refusal = DevelopmentSecrets.refusal(ofSigningKey: key, settings: settings, variable: name) {
            throw ConfigurationError(refusal)
        }
        return key
    }

    /// The token authority of ``signingKey()``.
    public func tokenAuthority() async throws -> TokenAuthority {
        let key = try signingKey()
        do {
            return try await TokenAuthority(signingKey: key)
        } catch {
            throw ConfigurationError("\(Self.signingKeySetting): \(error)")
        }
    }

    /// Who calls this service: the peer's certificate, and the tokens the
    /// gateway forwards, verified with ``tokenAuthority()``.
    public func callerResolver() async throws -> CallerResolver {
        CallerResolver(tokens: try await tokenAuthority())
    }
}
