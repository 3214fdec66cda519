/// A problem in the `.proto` input, named by file, method and what is wrong,
/// so the author can fix it without reading generator code.
public struct CodeGenError: Error, Hashable, CustomStringConvertible {
    public let file: String
    /// `Service.Method`, or the service or message concerned.
    public let element: String
    public let problem: String

    public var description: String { "\(file): \(element): \(problem)" }
}

/// Several problems found in one run; all are reported at once.
public struct CodeGenErrors: Error, CustomStringConvertible {
    public let errors: [CodeGenError]

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
