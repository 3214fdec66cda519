@testable import Gateway
import Testing

@Suite("Deadlines")
struct DeadlinePolicyTests {
    let policy = DeadlinePolicy(defaultDeadline: .seconds(5), maximum: .seconds(30))

    @Test("a route without a deadline of its own gets the gateway's default")
    func gatewayDefault() throws {
        #expect(try policy.budget(routeDefault: nil, requestedTimeout: nil) == .init(duration: .seconds(5), loweredByCaller: false))
    }

    @Test("a route's own default wins over the gateway's")
    func routeDefault() throws {
        #expect(try policy.budget(routeDefault: .seconds(10), requestedTimeout: nil).duration == .seconds(10))
    }

    @Test("X-Request-Timeout lowers the deadline")
    func headerLowers() throws {
        #expect(try policy.budget(routeDefault: nil, requestedTimeout: "250") == .init(duration: .milliseconds(250), loweredByCaller: true))
    }

    @Test("X-Request-Timeout never raises the deadline")
    func headerCannotRaise() throws {
        #expect(try policy.budget(routeDefault: nil, requestedTimeout: "60000") == .init(duration: .seconds(5), loweredByCaller: false))
    }

    @Test("no route gets more than the maximum")
    func maximumCaps() throws {
        #expect(try policy.budget(routeDefault: .seconds(3600), requestedTimeout: nil).duration == .seconds(30))
    }

    @Test("the deadline counts from the request's arrival")
    func countsFromArrival() throws {
        let arrival = ContinuousClock.now
        let budget = try policy.budget(routeDefault: nil, requestedTimeout: "100")
        #expect(budget.deadline(from: arrival) == arrival + .milliseconds(100))
    }

    @Test("a timeout that is not a positive whole number of milliseconds is 400", arguments: ["0", "-5", "1.5", "soon", "", "99999999999999"])
    func badHeader(_ value: String) {
        #expect(throws: GatewayError.self) { try policy.budget(routeDefault: nil, requestedTimeout: value) }
        do {
            _ = try policy.budget(routeDefault: nil, requestedTimeout: value)
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.code == "INVALID_ARGUMENT")
        }
    }
}
