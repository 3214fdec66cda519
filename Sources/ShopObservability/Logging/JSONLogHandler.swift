import Logging

/// A swift-log handler that writes one JSON object per line:
///
/// ```json
/// {"timestamp":"2026-03-01T09:05:07.042Z","level":"info","service":"order",
///  "label":"shop.order","message":"call","request_id":"3f…","trace_id":"4bf9…",
///  "span_id":"00f0…","method":"/shop.order.v1.OrderService/CreateOrder","code":"OK"}
/// ```
///
/// `request_id`, `trace_id` and `span_id` come from the metadata provider
/// (``Logger/MetadataProvider/requestContext`` reads them from the task's
/// `ServiceContext`), so every line written while serving a request names
/// it without anyone passing it by hand. Every other metadata value is
/// written as a string; a value under a key that looks secret
/// (``LogRedaction``) is replaced by `[REDACTED]`. A metadata key that
/// clashes with one of the fixed fields is written as `meta.<key>`.
///
/// Metadata is merged like swift-log's `StreamLogHandler`: the handler's
/// own, then the provider's, then the statement's, later ones winning.
public struct JSONLogHandler: LogHandler {
    /// Fields every line has, in this order, before the metadata.
    static let fixedFields: Set<String> = ["timestamp", "level", "service", "label", "message"]
    /// Fields that come from metadata but are written right after the fixed ones.
    static let contextFields = ["request_id", "trace_id", "span_id"]

    public let label: String
    public let processName: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata
    public var metadataProvider: Logger.MetadataProvider?
    private let sink: any LogSink

    /// - Parameters:
    ///   - label: the logger's label.
    ///   - processName: what the `service` field says: `gateway`, `order`, ...
    ///   - sink: where lines go; standard error unless told otherwise.
    ///   - logLevel: the least severe level written.
    ///   - metadataProvider: contextual metadata for every line.
    public init(
        label: String,
        processName: String,
        sink: any LogSink = FileDescriptorLogSink.standardError,
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = .requestContext
    ) {
        self.label = label
        self.processName = processName
        self.sink = sink
        self.logLevel = logLevel
        self.metadata = [:]
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        sink.write(line(for: event, timestamp: RFC3339Timestamp.now()))
    }

    /// The encoded line, newline included.
    func line(for event: LogEvent, timestamp: String) -> [UInt8] {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, new in new }
        }
        if let statement = event.metadata, !statement.isEmpty {
            merged.merge(statement) { _, new in new }
        }

        var json = JSONLine()
        json.add("timestamp", timestamp)
        json.add("level", event.level.rawValue)
        json.add("service", processName)
        json.add("label", label)
        json.add("message", event.message.description)
        for key in Self.contextFields {
            if let value = merged.removeValue(forKey: key) { json.add(key, Self.render(value)) }
        }
        if let error = event.error {
            merged["error"] = merged["error"] ?? .string(String(describing: error))
        }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            let name = Self.fixedFields.contains(key) ? "meta.\(key)" : key
            json.add(name, LogRedaction.isSecret(key) ? LogRedaction.placeholder : Self.render(value))
        }
        return json.finish()
    }

    /// A metadata value as one string; nested dictionaries are redacted by
    /// key too.
    static func render(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text):
            return text
        case .stringConvertible(let convertible):
            return convertible.description
        case .array(let values):
            return "[" + values.map(render).joined(separator: ", ") + "]"
        case .dictionary(let members):
            let parts = members.sorted(by: { $0.key < $1.key }).map { key, value in
                "\(key): \(LogRedaction.isSecret(key) ? LogRedaction.placeholder : render(value))"
            }
            return "[" + parts.joined(separator: ", ") + "]"
        }
    }
}
