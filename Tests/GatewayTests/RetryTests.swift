import FrameRPC
@testable import Gateway
import Testing

@Suite("Retry policy and budget")
struct RetryTests {
    let policy = RetryPolicy(maximumAttempts: 3, initialBackoff: .milliseconds(100), maximumBackoff: .milliseconds(400), multiplier: 2, budgetRatio: 0.5, budgetReserve: 2)

    static func unavailable() -> RPCError {
        RPCError(code: .unavailable, message: "down")
    }

    @Test("a call the server never started may be retried whatever the method")
    func neverProcessedIsRetryable() async throws {
        // A refused connection is the runtime's own "never processed" error.
        let client = RPCClient(host: "127.0.0.1", port: try RawSocket.refusingPort())
        defer { client.shutdown() }
        do {
            _ = try await HealthClient(client).check(HealthCheckRequest())
            Issue.record("a call to a closed port succeeded")
        } catch let error as RPCError {
            #expect(error.neverProcessed)
            #expect(RetryPolicy.isRetryable(error, idempotent: false))
        }
    }

    @Test("UNAVAILABLE is retried only for idempotent methods")
    func unavailableOnlyIfIdempotent() {
        #expect(RetryPolicy.isRetryable(Self.unavailable(), idempotent: true))
        #expect(!RetryPolicy.isRetryable(Self.unavailable(), idempotent: false))
    }

    @Test("answers and deadlines are never retried")
    func answersAreFinal() {
        for code: RPCError.Code in [.notFound, .invalidArgument, .failedPrecondition, .deadlineExceeded, .internal, .resourceExhausted] {
            #expect(!RetryPolicy.isRetryable(RPCError(code: code, message: ""), idempotent: true))
        }
    }

    @Test("backoff doubles per retry, is capped, and jitters within half a step")
    func backoffShape() {
        #expect(policy.backoff(beforeRetry: 1, random: 0) == .milliseconds(50))
        #expect(policy.backoff(beforeRetry: 1, random: 1) == .milliseconds(100))
        #expect(policy.backoff(beforeRetry: 2, random: 1) == .milliseconds(200))
        #expect(policy.backoff(beforeRetry: 3, random: 1) == .milliseconds(400))
        #expect(policy.backoff(beforeRetry: 9, random: 1) == .milliseconds(400))
        #expect(policy.backoff(beforeRetry: 9, random: 0) == .milliseconds(200))
    }

    @Test("the budget starts with its reserve and runs dry without new calls")
    func budgetRunsDry() {
        var budget = RetryBudget(ratio: policy.budgetRatio, reserve: policy.budgetReserve)
        let first = budget.withdraw()
        let second = budget.withdraw()
        let third = budget.withdraw()
        #expect(first && second && !third)
    }

    @Test("first attempts earn retries at the configured ratio, up to the reserve")
    func budgetRefills() {
        var budget = RetryBudget(ratio: 0.5, reserve: 2)
        _ = budget.withdraw()
        _ = budget.withdraw()
        budget.recordFirstAttempt()
        let afterOne = budget.withdraw()
        #expect(!afterOne)
        budget.recordFirstAttempt()
        let afterTwo = budget.withdraw()
        #expect(afterTwo)
        for _ in 0..<100 { budget.recordFirstAttempt() }
        #expect(budget.balance == 2)
    }
}
