import FrameRPC
import ServiceSupport

/// Call options that act for the user `id`, as the gateway would after
/// verifying a plain user's token.
public func asUser(_ id: String) -> CallOptions {
    CallOptions(metadata: [Caller.userIDKey: id, Caller.roleKey: "user"])
}

/// Call options that act for the admin `id`.
public func asAdmin(_ id: String = Validation.newID()) -> CallOptions {
    CallOptions(metadata: [Caller.userIDKey: id, Caller.roleKey: "admin"])
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
