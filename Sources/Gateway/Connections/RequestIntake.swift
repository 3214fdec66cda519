/// Where one connection is in receiving a request, as a pure state machine:
/// ``ConnectionGuardHandler`` feeds it what it sees and does what it says.
///
/// A request's receipt runs from its head to its end. If it is not over
/// within the bound (the body timeout), the client is sending too slowly
/// to be worth its slot: the connection is cut, with a 408 first when no
/// response has started for it (a route may answer, 401 say, before it
/// reads the body; writing a second response then would corrupt the
/// stream).
struct RequestIntake: Sendable, Hashable {
    enum State: Sendable, Hashable {
        /// Between requests (the idle timeout's business, not ours).
        case waiting
        /// The head is in, the end is not.
        case receiving(responseStarted: Bool)
        /// Cut off; nothing more happens.
        case closed
    }

    enum Action: Sendable, Hashable {
        case none
        case startTimer
        case cancelTimer
        /// Cut the connection, answering 408 first when `respond`.
        case cutOff(respond: Bool)
    }

    private(set) var state: State = .waiting

    mutating func headReceived() -> Action {
        guard state != .closed else { return .none }
        state = .receiving(responseStarted: false)
        return .startTimer
    }

    mutating func endReceived() -> Action {
        guard case .receiving = state else { return .none }
        state = .waiting
        return .cancelTimer
    }

    mutating func responseStarted() {
        if case .receiving = state { state = .receiving(responseStarted: true) }
    }

    mutating func timerFired() -> Action {
        guard case .receiving(let started) = state else { return .none }
        state = .closed
        return .cutOff(respond: !started)
    }

    mutating func connectionClosed() -> Action {
        let wasReceiving = if case .receiving = state { true } else { false }
        state = .closed
        return wasReceiving ? .cancelTimer : .none
    }
}
