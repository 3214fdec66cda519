import Synchronization

/// Back-pressure for one server-streaming call at the client: how many of
/// its messages have been read from the connection but not yet taken by the
/// consumer, against two watermarks.
///
/// The connection's event loop counts a message in (``produced()``); when
/// the count reaches ``highWatermark`` the connection stops reading from its
/// socket (``ClientConnectionHandler`` holds NIO's `read()`), so the
/// server's writes back up into TCP and its handler's `write` waits. The
/// consumer counts messages out (``consumed()``); when the count falls to
/// ``lowWatermark`` while reads are held for this call, ``onDrained`` tells
/// the connection to read again. Two atomics, no lock: the loop writes
/// `paused` before re-checking the count, the consumer decrements before
/// reading `paused`, so a drain can never be missed.
final class StreamFlow: Sendable {
    let highWatermark: Int
    let lowWatermark: Int
    private let buffered = Atomic<Int>(0)
    private let paused = Atomic<Bool>(false)
    /// Runs on the consumer's task: hops to the connection to resume reading.
    private let onDrained: @Sendable () -> Void

    init(highWatermark: Int, lowWatermark: Int, onDrained: @escaping @Sendable () -> Void) {
        self.highWatermark = max(1, highWatermark)
        self.lowWatermark = min(max(0, lowWatermark), self.highWatermark - 1)
        self.onDrained = onDrained
    }

    /// Messages read from the connection, not yet taken by the consumer.
    var bufferedMessages: Int { buffered.load(ordering: .sequentiallyConsistent) }

    /// On the event loop: one more message is buffered. True when the
    /// connection should stop reading for this call.
    func produced() -> Bool {
        buffered.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue >= highWatermark
    }

    /// On the event loop, after ``produced()`` said to stop: marks the call
    /// paused. False if the consumer already caught up (do not pause).
    func pause() -> Bool {
        paused.store(true, ordering: .sequentiallyConsistent)
        if buffered.load(ordering: .sequentiallyConsistent) <= lowWatermark {
            return !paused.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged
        }
        return true
    }

    /// On the consumer's task: one message taken.
    func consumed() {
        let left = buffered.wrappingSubtract(1, ordering: .sequentiallyConsistent).newValue
        guard left <= lowWatermark else { return }
        if paused.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged {
            onDrained()
        }
    }
}
