import Foundation
import NIOCore

/// One outgoing call, from the calling task's point of view.
///
/// Made by the calling task, then owned by the connection's event loop: every
/// mutable field is read and written on that loop only, which is what makes
/// the `@unchecked Sendable` sound.
final class PendingCall: @unchecked Sendable {
    enum Receiver {
        /// Resumed exactly once: ``succeed(_:)`` and ``fail(_:)`` check
        /// `finished` on the event loop, so the unchecked continuation (no
        /// canary object per call) is safe.
        case unary(UnsafeContinuation<ClientOutcome, any Error>)
        case stream(AsyncThrowingStream<ByteBuffer, any Error>.Continuation)
    }

    let deadline: NIODeadline?
    var receiver: Receiver?
    /// Assigned on the event loop when the `Request` frame is written.
    var callID: UInt64 = 0
    var cancelledBeforeStart = false
    /// The `Request` body, kept while the call waits for a slot.
    var request: RequestBody?
    /// Waiting in the connection's ``CallAdmission`` queue, not yet sent.
    var isQueued = false
    var deadlineTimer: Scheduled<Void>?
    /// Back-pressure of a server-streaming call; `nil` for unary calls.
    var flow: StreamFlow?
    private var finished = false

    init(deadline: NIODeadline?) {
        self.deadline = deadline
    }

    /// Delivers one streamed response message; false if the call is unary.
    func yield(_ payload: ByteBuffer) -> Bool {
        guard case .stream(let continuation) = receiver else { return false }
        continuation.yield(payload)
        return true
    }

    func succeed(_ outcome: ClientOutcome) {
        guard !finished else { return }
        finished = true
        deadlineTimer?.cancel()
        switch receiver {
        case .unary(let continuation): continuation.resume(returning: outcome)
        case .stream(let continuation): continuation.finish()
        case nil: break
        }
    }

    func fail(_ error: RPCError) {
        guard !finished else { return }
        finished = true
        deadlineTimer?.cancel()
        switch receiver {
        case .unary(let continuation): continuation.resume(throwing: error)
        case .stream(let continuation): continuation.finish(throwing: error)
        case nil: break
        }
    }
}
