@testable import FrameRPC
import NIOCore
import Testing

/// The connection state machine both sides share, driven with a fake clock
/// (plain `NIODeadline` values): no sockets, no timers, no waiting.
@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private let keepalive = Keepalive(interval: .seconds(30), timeout: .seconds(10))

    @Test("an idle connection sends a Ping and waits for the timeout")
    func idleSendsPing() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        let action = machine.idleTimerFired(at: start)
        #expect(action == .sendPing(opaque: 1, pongDeadline: start + .seconds(10)))
        #expect(machine.awaitingPong)
    }

    @Test("no answer by the pong deadline closes the connection as dead")
    func noPongCloses() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        _ = machine.idleTimerFired(at: start)
        #expect(machine.pongTimerFired(at: start + .seconds(10)) == .closeDeadConnection)
        #expect(machine.isClosing)
    }

    @Test("any frame from the peer before the deadline keeps the connection")
    func frameBeforeDeadlineKeepsConnection() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        _ = machine.idleTimerFired(at: start)
        machine.frameReceived()
        #expect(!machine.awaitingPong)
        #expect(machine.pongTimerFired(at: start + .seconds(10)) == .none)
        #expect(!machine.isClosing)
    }

    @Test("a timer that fires early (clock skew) does not close the connection")
    func earlyTimerIgnored() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        _ = machine.idleTimerFired(at: start)
        #expect(machine.pongTimerFired(at: start + .seconds(9)) == .none)
        #expect(machine.awaitingPong)
    }

    @Test("while a Ping is unanswered no second Ping is sent, and each Ping has a new opaque")
    func onePingAtATime() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        _ = machine.idleTimerFired(at: start)
        #expect(machine.idleTimerFired(at: start + .seconds(5)) == .none)
        machine.frameReceived()
        #expect(machine.idleTimerFired(at: start + .seconds(40)) == .sendPing(opaque: 2, pongDeadline: start + .seconds(50)))
    }

    @Test("keepalive switched off never pings")
    func keepaliveOff() {
        var machine = ConnectionStateMachine(keepalive: nil)
        #expect(machine.idleTimerFired(at: start) == .none)
    }

    @Test("a closing connection sends no Ping")
    func closingSendsNoPing() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        machine.closing()
        #expect(machine.idleTimerFired(at: start) == .none)
    }

    @Test("writes during a read burst are flushed once when the burst ends")
    func burstFlushesOnce() {
        var machine = ConnectionStateMachine(keepalive: nil)
        machine.frameReceived()
        #expect(machine.wrote() == .none)
        machine.frameReceived()
        #expect(machine.wrote() == .none)
        #expect(machine.readComplete() == .flushNow)
        #expect(machine.readComplete() == .none)
    }

    @Test("a burst without writes flushes nothing")
    func burstWithoutWrites() {
        var machine = ConnectionStateMachine(keepalive: nil)
        machine.frameReceived()
        #expect(machine.readComplete() == .none)
    }

    @Test("writes outside a burst schedule one flush for all of them")
    func writesOutsideBurstShareOneFlush() {
        var machine = ConnectionStateMachine(keepalive: nil)
        #expect(machine.wrote() == .scheduleFlush)
        #expect(machine.wrote() == .none)
        #expect(machine.wrote() == .none)
        #expect(machine.flushRan() == .flushNow)
        #expect(machine.flushRan() == .none)
        #expect(machine.wrote() == .scheduleFlush)
    }

    @Test("a read burst while a flush is scheduled leaves it to the scheduled flush")
    func burstDuringScheduledFlush() {
        var machine = ConnectionStateMachine(keepalive: nil)
        #expect(machine.wrote() == .scheduleFlush)
        machine.frameReceived()
        #expect(machine.wrote() == .none)
        #expect(machine.readComplete() == .none)
        #expect(machine.flushRan() == .flushNow)
    }

    @Test("the first violation says GoAway and closes; later ones say nothing")
    func violationOnce() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        #expect(machine.violation(.emptyFrame) == .sendGoAwayAndClose(reason: ProtocolViolation.emptyFrame.reason))
        #expect(machine.violation(.malformedFrame) == .none)
        #expect(machine.idleTimerFired(at: start) == .none)
    }

    // MARK: Drain

    @Test("draining with nothing in flight sends GoAway and closes once it is written")
    func drainIdleClosesAtOnce() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        #expect(machine.startDraining(lastCallID: 7, callsInFlight: 0, grace: .seconds(5), now: start) == .sendGoAwayAndClose(lastCallID: 7))
        #expect(machine.isClosing)
        #expect(!machine.acceptsNewCalls)
    }

    @Test("draining with calls in flight sends GoAway, refuses new calls, and waits for the grace period")
    func drainWaitsForCalls() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        #expect(machine.acceptsNewCalls)
        #expect(machine.startDraining(lastCallID: 9, callsInFlight: 2, grace: .seconds(5), now: start) == .sendGoAwayAndWait(lastCallID: 9, graceDeadline: start + .seconds(5)))
        #expect(!machine.acceptsNewCalls)
        #expect(!machine.isClosing)
        #expect(machine.sentGoAwayLastCallID == 9)
    }

    @Test("while draining, the last call to end closes the connection after its answer is written")
    func drainLastCallCloses() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        _ = machine.startDraining(lastCallID: 9, callsInFlight: 2, grace: .seconds(5), now: start)
        #expect(machine.callEnded(callsInFlight: 1) == .none)
        #expect(machine.callEnded(callsInFlight: 0) == .closeWhenWritten)
        #expect(machine.isClosing)
        #expect(machine.graceTimerFired(at: start + .seconds(5)) == .none)
    }

    @Test("calls still running when the grace period is over are cut off: the connection closes now")
    func graceOverClosesNow() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        _ = machine.startDraining(lastCallID: 9, callsInFlight: 2, grace: .seconds(5), now: start)
        #expect(machine.graceTimerFired(at: start + .seconds(5)) == .closeNow)
        #expect(machine.isClosing)
        #expect(machine.callEnded(callsInFlight: 0) == .none)
    }

    @Test("a grace timer that fires early (clock skew) keeps the calls running")
    func earlyGraceTimerIgnored() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        _ = machine.startDraining(lastCallID: 9, callsInFlight: 1, grace: .seconds(5), now: start)
        #expect(machine.graceTimerFired(at: start + .seconds(4)) == .none)
        #expect(!machine.isClosing)
    }

    @Test("a second drain sends no second GoAway, and a closing connection does not drain")
    func drainOnce() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        _ = machine.startDraining(lastCallID: 9, callsInFlight: 1, grace: .seconds(5), now: start)
        #expect(machine.startDraining(lastCallID: 11, callsInFlight: 1, grace: .seconds(5), now: start) == .none)
        var closed = ConnectionStateMachine(keepalive: keepalive)
        _ = closed.violation(.emptyFrame)
        #expect(closed.startDraining(lastCallID: 1, callsInFlight: 0, grace: .seconds(5), now: start) == .none)
    }

    @Test("without a GoAway either way, the last call ending keeps the connection open")
    func callEndedWithoutDrainKeepsConnection() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        #expect(machine.callEnded(callsInFlight: 0) == .none)
        #expect(!machine.isClosing)
        #expect(machine.acceptsNewCalls)
    }

    @Test("a graceful GoAway from the peer stops new calls; the calls up to its last id may finish")
    func peerGoAwayDrains() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        #expect(machine.goAwayReceived(lastCallID: 5, code: 0) == .drain(lastCallID: 5))
        #expect(!machine.acceptsNewCalls)
        #expect(!machine.isClosing)
        #expect(machine.callEnded(callsInFlight: 1) == .none)
        #expect(machine.callEnded(callsInFlight: 0) == .closeWhenWritten)
    }

    @Test("a later GoAway can lower the peer's last call id but never raise it")
    func peerGoAwayOnlyLowers() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        _ = machine.goAwayReceived(lastCallID: 5, code: 0)
        #expect(machine.goAwayReceived(lastCallID: 9, code: 0) == .drain(lastCallID: 5))
        #expect(machine.goAwayReceived(lastCallID: 3, code: 0) == .drain(lastCallID: 3))
        #expect(machine.receivedGoAwayLastCallID == 3)
    }

    @Test("a GoAway with an error code closes the connection now")
    func peerGoAwayWithErrorCloses() {
        var machine = ConnectionStateMachine(keepalive: keepalive)
        #expect(machine.goAwayReceived(lastCallID: 5, code: 13) == .closeNow(lastCallID: 5))
        #expect(machine.isClosing)
        #expect(machine.goAwayReceived(lastCallID: 5, code: 0) == .none)
        #expect(machine.idleTimerFired(at: start) == .none)
    }
}
