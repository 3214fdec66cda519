import ShopObservability
import Testing

/// `traceparent` parsing by the W3C rules: what the gateway accepts from
/// outside and what every hop makes of it.
@Suite("W3C trace context")
struct TraceContextTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test("a valid traceparent is read field by field and written back the same")
    func roundTrip() throws {
        let context = try #require(TraceContext(traceParent: Self.valid))
        #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.spanIDString == "00f067aa0ba902b7")
        #expect(context.flags == 0x01)
        #expect(context.isSampled)
        #expect(context.traceParent == Self.valid)
    }

    @Test("surrounding spaces and tabs are allowed", arguments: [" \(valid)", "\(valid)\t", "\t \(valid) "])
    func optionalWhitespace(header: String) {
        #expect(TraceContext(traceParent: header)?.traceParent == Self.valid)
    }

    @Test(
        "an invalid traceparent is refused",
        arguments: [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",            // no flags
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",   // version 00 is exactly 55
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // version ff is forbidden
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",         // all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",         // all-zero parent id
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",         // uppercase hex
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",         // not hex
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // wrong separator
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",         // bad flags
            "0-04bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",          // misplaced dash
        ]
    )
    func invalid(header: String) {
        #expect(TraceContext(traceParent: header) == nil)
    }

    @Test("a later version is read as version 00 when its extra fields start with a dash")
    func laterVersion() {
        let header = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"
        #expect(TraceContext(traceParent: header)?.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceContext(traceParent: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x") == nil)
    }

    @Test("a child span keeps the trace id, flags and state and gets a new span id")
    func childSpan() throws {
        let parent = try #require(TraceContext(traceParent: Self.valid, traceState: "vendor=1"))
        let child = parent.childSpan()
        #expect(child.traceID == parent.traceID)
        #expect(child.spanID != parent.spanID)
        #expect(child.spanID != 0)
        #expect(child.flags == parent.flags)
        #expect(child.traceState == "vendor=1")
    }

    @Test("a new trace is valid, sampled and different each time")
    func newTrace() throws {
        let first = TraceContext.newTrace()
        let second = TraceContext.newTrace()
        #expect(first.traceID != second.traceID)
        #expect(first.isSampled)
        #expect(TraceContext(traceParent: first.traceParent) == first)
        #expect(first.traceParent.count == 55)
    }
}
