import Foundation
import Logging
@testable import ShopObservability
import Testing
import Tracing

/// The JSON log line: its fields, its escaping, its redaction, and the
/// request context it picks up from the task.
@Suite("JSON log lines")
struct JSONLogHandlerTests {
    func logger(_ sink: InMemoryLogSink, level: Logger.Level = .info) -> Logger {
        Observability.logger(label: "shop.test", processName: "order", sink: sink, logLevel: level)
    }

    /// The only line written, as a JSON object.
    func onlyLine(_ sink: InMemoryLogSink) throws -> [String: Any] {
        let lines = sink.lines
        try #require(lines.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8))
        return try #require(object as? [String: Any])
    }

    @Test("a line holds timestamp, level, service, label and message")
    func fixedFields() throws {
        let sink = InMemoryLogSink()
        logger(sink).info("placed")
        let line = try onlyLine(sink)
        #expect(line["level"] as? String == "info")
        #expect(line["service"] as? String == "order")
        #expect(line["label"] as? String == "shop.test")
        #expect(line["message"] as? String == "placed")
        let timestamp = try #require(line["timestamp"] as? String)
        #expect(timestamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil)
    }

    @Test("the timestamp is RFC 3339 in UTC with milliseconds")
    func timestampFormat() {
        #expect(RFC3339Timestamp.format(seconds: 0, milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339Timestamp.format(seconds: 1_772_355_907, milliseconds: 42) == "2026-03-01T09:05:07.042Z")
    }

    @Test("metadata values are string fields, nested ones flattened")
    func metadataAsStrings() throws {
        let sink = InMemoryLogSink()
        logger(sink).info("x", metadata: ["count": "\(3)", "items": ["a", "b"], "nested": ["k": "v"]])
        let line = try onlyLine(sink)
        #expect(line["count"] as? String == "3")
        #expect(line["items"] as? String == "[a, b]")
        #expect(line["nested"] as? String == "[k: v]")
    }

    @Test("quotes, backslashes, newlines and control characters are escaped: one event is one line")
    func escaping() throws {
        let sink = InMemoryLogSink()
        let nasty = "a \"quoted\" \\ back\nslash\r\t\u{01}\u{7F} é"
        logger(sink).info("\(nasty)", metadata: ["field\n": "\(nasty)"])
        let line = try onlyLine(sink)
        #expect(line["message"] as? String == nasty)
        #expect(line["field\n"] as? String == nasty)
        #expect(!sink.lines[0].contains("\n"))
    }

    @Test(
        "values under secret-looking keys are redacted",
        arguments: ["password", "new_password", "Authorization", "access_token", "SHOP_SIGNING_KEY", "signing-key", "x-api-key", "client_secret"]
    )
    func redaction(key: String) throws {
        let sink = InMemoryLogSink()
        logger(sink).info("login", metadata: [key: "hunter2-secret-value", "email": "ada@example.com"])
        let line = try onlyLine(sink)
        #expect(line[key] as? String == LogRedaction.placeholder)
        #expect(line["email"] as? String == "ada@example.com")
        #expect(!sink.lines[0].contains("hunter2"))
    }

    @Test("secrets nested in a dictionary are redacted too")
    func nestedRedaction() throws {
        let sink = InMemoryLogSink()
        logger(sink).info("x", metadata: ["request": ["password": "hunter2", "user": "ada"]])
        #expect(!sink.lines[0].contains("hunter2"))
        #expect(try onlyLine(sink)["request"] as? String == "[password: [REDACTED], user: ada]")
    }

    @Test("request_id, trace_id and span_id come from the task's ServiceContext")
    func requestContext() throws {
        let sink = InMemoryLogSink()
        let trace = try #require(TraceContext(traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        let logger = logger(sink)
        ServiceContext.withValue(.request(trace: trace, requestID: "req-42")) {
            logger.info("inside")
        }
        logger.info("outside")
        let lines = sink.lines
        try #require(lines.count == 2)
        let inside = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let outside = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(inside["request_id"] as? String == "req-42")
        #expect(inside["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(inside["span_id"] as? String == "00f067aa0ba902b7")
        #expect(outside["trace_id"] == nil)
        #expect(outside["request_id"] == nil)
    }

    @Test("a metadata key that clashes with a fixed field is kept under meta.<key>")
    func clashingKey() throws {
        let sink = InMemoryLogSink()
        logger(sink).info("x", metadata: ["service": "inner", "message": "other"])
        let line = try onlyLine(sink)
        #expect(line["service"] as? String == "order")
        #expect(line["meta.service"] as? String == "inner")
        #expect(line["meta.message"] as? String == "other")
    }

    @Test("lines below the level are not written")
    func level() {
        let sink = InMemoryLogSink()
        let logger = logger(sink, level: .warning)
        logger.info("quiet")
        logger.warning("loud")
        #expect(sink.lines.count == 1)
    }
}
