/// A protobuf message the generated route code reads from and writes as the
/// REST JSON of the public API. The conformances are generated beside the
/// route table, one per message a route carries: no descriptors at run
/// time, no protobuf JSON in between.
public protocol RESTMessage: Sendable {
    init()

    /// Sets the fields named by `members` (one JSON object of a request
    /// body, its names unique), in document order. Unknown names are
    /// ignored; a known one given as null is a wrong type. `path` is the
    /// object's dotted path in the body (empty for the body itself), for
    /// error messages.
    mutating func mergeREST(_ members: [(key: String, value: JSONValue)], at path: String) throws(TranscodingError)

    /// Writes the message as the REST JSON object: every field in
    /// declaration order, defaults included, money as decimals, enums in
    /// lower case without their prefix; unset sub-messages and timestamps
    /// are left out (the document declares none nullable).
    func writeREST(to writer: inout RESTWriter)
}
