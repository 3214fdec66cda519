import Logging
import RESTTranscoding

/// What every REST endpoint shares: how to authenticate and time
/// requests, and the limits they are held to.
struct GatewayCore: Sendable {
    let authenticator: Authenticator
    let deadlines: DeadlinePolicy
    let bodyLimit: Int
    let heartbeatInterval: Duration
    /// Server-Sent Events streams per user and in all.
    let streams: StreamBudget
    /// Rate limits and the hashing cap of the password routes.
    let passwordRoutes: PasswordRouteGuard
    let logger: Logger
}
