import Logging
import RESTTranscoding

/// What every REST endpoint shares: how to authenticate, transcode and time
/// requests, and the limits they are held to.
struct GatewayCore: Sendable {
    let authenticator: Authenticator
    let transcoder: RESTTranscoder
    let deadlines: DeadlinePolicy
    let bodyLimit: Int
    let heartbeatInterval: Duration
    let logger: Logger
}
