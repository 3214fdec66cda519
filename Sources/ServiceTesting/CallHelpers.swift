import FrameRPC
import ServiceSupport
import ShopAuth

/// The signing key the services in tests verify tokens with, and the
/// tokens ``asUser(_:)`` and ``asAdmin(_:)`` carry: put ``settings`` into
/// every test service's environment.
public enum TestSigning {
    /// Not the development key: tests run outside dev mode.
    public static let key = "service-tests-signing-key-0123456789abcdef"

    /// `SHOP_SIGNING_KEY` for a test service's environment.
    public static var settings: [String: String] { [ServiceEnvironment.signingKeySetting: key] }

    /// A real access token for `userID`, signed with ``key`` as the user
    /// service signs them.
    public static func token(
        userID: String,
        role: AccessTokenClaims.Role,
        tokenVersion: Int64 = 0,
        lifetime: Double = 3600
    ) async throws -> String {
        try await TokenAuthority(signingKey: key).issue(userID: userID, role: role, tokenVersion: tokenVersion, lifetime: lifetime).token
    }
}

/// Call options that act for the user `id`, as the gateway sends them:
/// a real access token (``TestSigning``) in `authorization` metadata. A
/// service believes it only on a connection with the gateway's identity.
public func asUser(_ id: String) async throws -> CallOptions {
    try await asBearer(userID: id, role: .user)
}

/// Call options that act for the admin `id`.
public func asAdmin(_ id: String = Validation.newID()) async throws -> CallOptions {
    try await asBearer(userID: id, role: .admin)
}

private func asBearer(userID: String, role: AccessTokenClaims.Role) async throws -> CallOptions {
    let token = try await TestSigning.token(userID: userID, role: role)
    return CallOptions(metadata: [CallerResolver.authorizationKey: BearerToken.authorization(token)])
}

/// The `RPCError` `body` threw, or `nil` if it succeeded; any other error
/// becomes UNKNOWN naming it, so a test's code check fails readably.
public func rpcError(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "not an RPCError: \(error)")
    }
}

/// Polls `condition` until it holds or `timeout` passes; whether it held
/// (asked once more at the end). For effects that happen in the
/// background: an outbox relay, an expiry sweep, a circuit closing.
public func eventually(
    timeout: Duration = .seconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
