/// A message as the REST JSON sees it: every field, by proto name, with the
/// kind the gateway converts and checks. Generated beside the routes, since
/// Swift protobuf messages carry no descriptors at run time.
public struct MessageShape: Sendable, Hashable {
    public let fields: [FieldShape]
    /// The same fields by name.
    public let fieldsByName: [String: FieldShape]

    public init(fields: [FieldShape]) {
        self.fields = fields
        self.fieldsByName = Dictionary(fields.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

public struct FieldShape: Sendable, Hashable {
    public indirect enum Kind: Sendable, Hashable {
        case string
        case bool
        case int32
        case uint32
        case int64
        case uint64
        case double
        case bytes
        /// An int64 amount of cents, shown as a decimal number (`19.99`).
        case money
        /// Shown without `prefix`, lower-cased: `ORDER_STATUS_PAID` is `paid`.
        case enumeration(prefix: String, values: [String])
        /// A nested message, by proto name.
        case message(String)
        /// `google.protobuf.Timestamp`, an RFC 3339 string.
        case timestamp
        /// Maps and other well-known types, passed through unchanged.
        case opaque
    }

    /// The proto field name, which is also the JSON name.
    public let name: String
    public let kind: Kind
    public let repeated: Bool

    public init(_ name: String, _ kind: Kind, repeated: Bool = false) {
        self.name = name
        self.kind = kind
        self.repeated = repeated
    }
}
