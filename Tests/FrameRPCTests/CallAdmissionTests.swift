@testable import FrameRPC
import Testing

/// The client's half of the concurrency limit, as a pure value.
@Suite("Call admission (client side of the concurrency limit)")
struct CallAdmissionTests {
    @Test("until the server's limit is known every call waits, then the limit's worth is released in order")
    func waitsUntilSettled() {
        var admission = CallAdmission<Int>(maximumQueued: 10)
        for call in 0..<5 { do { let result = admission.submit(call); #expect(result == .queue) } }
        do { let result = admission.settle(limit: 3); #expect(result == [0, 1, 2]) }
        #expect(admission.inFlight == 3)
        #expect(admission.queued == 2)
    }

    @Test("once settled, calls go straight out below the limit and wait at it")
    func sendsBelowLimit() {
        var admission = CallAdmission<Int>(maximumQueued: 10, settled: true)
        #expect(admission.limit == 256)
        _ = admission.settle(limit: 2)
        do { let result = admission.submit(1); #expect(result == .send) }
        do { let result = admission.submit(2); #expect(result == .send) }
        do { let result = admission.submit(3); #expect(result == .queue) }
        do { let result = admission.ended(); #expect(result == [3]) }
        #expect(admission.inFlight == 2)
    }

    @Test("a full queue refuses at once")
    func fullQueueRejects() {
        var admission = CallAdmission<Int>(maximumQueued: 2, settled: true)
        _ = admission.settle(limit: 1)
        do { let result = admission.submit(1); #expect(result == .send) }
        do { let result = admission.submit(2); #expect(result == .queue) }
        do { let result = admission.submit(3); #expect(result == .queue) }
        do { let result = admission.submit(4); #expect(result == .reject) }
    }

    @Test("a server that announces nothing leaves the default of 256")
    func defaultLimit() {
        var admission = CallAdmission<Int>(maximumQueued: 1_000)
        for call in 0..<300 { do { let result = admission.submit(call); #expect(result == .queue) } }
        let released = admission.settle(limit: nil)
        #expect(released.count == 256)
        #expect(admission.queued == 44)
    }

    @Test("a lowered limit holds back new calls until enough in flight have ended")
    func loweredLimit() {
        var admission = CallAdmission<Int>(maximumQueued: 10, settled: true)
        _ = admission.settle(limit: 4)
        for call in 0..<4 { do { let result = admission.submit(call); #expect(result == .send) } }
        do { let result = admission.settle(limit: 2); #expect(result == []) }
        do { let result = admission.submit(9); #expect(result == .queue) }
        do { let result = admission.ended(); #expect(result == []) }
        do { let result = admission.ended(); #expect(result == []) }
        do { let result = admission.ended(); #expect(result == [9]) }
    }

    @Test("a waiting call can be taken out (deadline, cancel), and the queue emptied")
    func removal() {
        var admission = CallAdmission<Int>(maximumQueued: 10, settled: true)
        _ = admission.settle(limit: 1)
        _ = admission.submit(1)
        for call in 2...4 { _ = admission.submit(call) }
        do { let result = admission.remove { $0 == 3 }; #expect(result == 3) }
        do { let result = admission.remove { $0 == 3 }; #expect(result == nil) }
        do { let result = admission.removeAllWaiting(); #expect(result == [2, 4]) }
        do { let result = admission.ended(); #expect(result == []) }
    }
}

/// The server's half: what it told the client and what it enforces.
@Suite("Announced concurrency limit (server side)")
struct AnnouncedConcurrencyLimitTests {
    @Test("a client that never opted in is held to a change at once and told nothing")
    func oldClient() {
        var limit = AnnouncedConcurrencyLimit(limit: 64)
        #expect(limit.enforced == 64)
        do { let result = limit.change(to: 8); #expect(result == nil) }
        #expect(limit.enforced == 8)
    }

    @Test("the opt-in is answered once with the current limit")
    func optInOnce() {
        var limit = AnnouncedConcurrencyLimit(limit: 64)
        do { let result = limit.optIn(); #expect(result == 64) }
        do { let result = limit.optIn(); #expect(result == nil) }
        #expect(limit.enforced == 64)
    }

    @Test("a lowered limit is enforced only once the client acknowledged it; a raised one at once")
    func lowerAfterAcknowledgement() {
        var limit = AnnouncedConcurrencyLimit(limit: 64)
        _ = limit.optIn()
        limit.acknowledge()
        do { let result = limit.change(to: 16); #expect(result == 16) }
        #expect(limit.enforced == 64)
        limit.acknowledge()
        #expect(limit.enforced == 16)
        do { let result = limit.change(to: 32); #expect(result == 32) }
        #expect(limit.enforced == 32)
    }

    @Test("acknowledgements apply in order; a stray one changes nothing")
    func acknowledgementsInOrder() {
        var limit = AnnouncedConcurrencyLimit(limit: 64)
        limit.acknowledge()
        #expect(limit.enforced == 64)
        _ = limit.optIn()
        _ = limit.change(to: 16)
        _ = limit.change(to: 4)
        limit.acknowledge()  // the opt-in's Settings
        #expect(limit.enforced == 64)
        limit.acknowledge()  // 16
        #expect(limit.enforced == 16)
        limit.acknowledge()  // 4
        #expect(limit.enforced == 4)
    }
}
