/// Why the supervisor could not bring the system up or keep it up: told to
/// the user as one clear sentence, never as a stack trace.
public struct SupervisorError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
