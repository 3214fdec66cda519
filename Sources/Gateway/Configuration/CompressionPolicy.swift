/// When the gateway compresses what it sends and how much it inflates what
/// it receives.
public struct CompressionPolicy: Sendable, Equatable {
    /// Responses smaller than this go as they are: below about a kilobyte
    /// gzip saves little and costs a round of CPU per request.
    public var minimumResponseBytes: Int
    /// Whether responses are compressed at all (request bodies are always
    /// accepted compressed).
    public var compressResponses: Bool

    public init(minimumResponseBytes: Int = 1024, compressResponses: Bool = true) {
        self.minimumResponseBytes = minimumResponseBytes
        self.compressResponses = compressResponses
    }
}
