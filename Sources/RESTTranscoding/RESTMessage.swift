/// A protobuf message the generated route code reads from and writes as the
/// REST JSON of the public API. The conformances are generated beside the
/// route table, one per message a route carries: no descriptors at run
/// time, no protobuf JSON in between.
public protocol RESTMessage: Sendable {
    init()

    /// Reads the object `reader` is positioned at into the message's
    /// fields, in document order (a repeated name: its last value wins).
    /// Unknown names are skipped (still counted against the reader's
    /// limits); a known one given as null is a wrong type. `path` is the
    /// object's dotted path in the body (empty for the body itself), for
    /// error messages.
    mutating func mergeREST(from reader: inout RESTBodyReader, at path: String) throws(TranscodingError)

    /// Writes the message as the REST JSON object: every field in
    /// declaration order, defaults included, money as decimals, enums in
    /// lower case without their prefix; unset sub-messages and timestamps
    /// are left out (the document declares none nullable).
    func writeREST(to writer: inout RESTWriter)
}
