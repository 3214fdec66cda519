/// How long a request may take, all of it counted from its arrival at the
/// gateway (so time spent reading the body or waiting for a retry is
/// included).
///
/// The budget is the route's own default (from the proto's
/// `default_deadline_ms`), else the gateway's default; a caller may lower it
/// with `X-Request-Timeout: <milliseconds>` but never raise it; and no
/// budget is longer than the gateway's maximum.
public struct DeadlinePolicy: Sendable, Hashable {
    /// The header a caller lowers its deadline with.
    public static let timeoutHeader = "X-Request-Timeout"

    public var defaultDeadline: Duration
    public var maximum: Duration

    public init(defaultDeadline: Duration, maximum: Duration) {
        self.defaultDeadline = defaultDeadline
        self.maximum = maximum
    }

    /// A request's time budget.
    public struct Budget: Sendable, Hashable {
        public let duration: Duration
        /// The caller asked for less than the route would give. Deadlines
        /// it chose do not count against the upstream's circuit breaker,
        /// or a caller could open it with `X-Request-Timeout: 1`.
        public let loweredByCaller: Bool

        /// The instant the request has failed, for one that arrived at `arrival`.
        public func deadline(from arrival: ContinuousClock.Instant) -> ContinuousClock.Instant {
            arrival.advanced(by: duration)
        }
    }

    /// The budget of a request to a route with `routeDefault`, given the
    /// value of its `X-Request-Timeout` header.
    ///
    /// - Throws: 400 INVALID_ARGUMENT when the header is not a whole number
    ///   of milliseconds of at least 1.
    public func budget(routeDefault: Duration?, requestedTimeout: String?) throws(GatewayError) -> Budget {
        let routeBudget = min(routeDefault ?? defaultDeadline, maximum)
        guard let requestedTimeout else { return Budget(duration: routeBudget, loweredByCaller: false) }
        let text = requestedTimeout.trimmingSpaces
        guard !text.isEmpty, text.count <= 12, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let milliseconds = Int64(text), milliseconds >= 1 else {
            throw GatewayError.badRequest("\(Self.timeoutHeader) must be a whole number of milliseconds, at least 1")
        }
        let requested = Duration.milliseconds(milliseconds)
        return requested < routeBudget
            ? Budget(duration: requested, loweredByCaller: true)
            : Budget(duration: routeBudget, loweredByCaller: false)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (as HTTP field values are read).
    var trimmingSpaces: Substring {
        var text = self[...]
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
