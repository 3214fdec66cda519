import Foundation

/// Where `shop up` writes: every child's lines behind its name, and the
/// supervisor's own messages behind `shop`, one whole line at a time so
/// lines of different children never interleave mid-line.
public struct Console: Sendable {
    private let write: @Sendable (String) -> Void
    private let width: Int

    /// - Parameters:
    ///   - names: the children's names, to align the prefixes.
    ///   - write: takes one line, newline included.
    public init(names: [String], write: @escaping @Sendable (String) -> Void = Console.standardOutput) {
        self.width = max(names.map(\.count).max() ?? 0, "shop".count)
        self.write = write
    }

    public func child(_ name: String, _ line: String) {
        write(prefix(name) + line + "\n")
    }

    public func supervisor(_ message: String) {
        write(prefix("shop") + message + "\n")
    }

    private func prefix(_ name: String) -> String {
        name.padding(toLength: width, withPad: " ", startingAt: 0) + " | "
    }

    /// Writes to standard output, unbuffered, under a lock.
    public static let standardOutput: @Sendable (String) -> Void = { line in
        outputLock.withLock { FileHandle.standardOutput.write(Data(line.utf8)) }
    }
}

private let outputLock = NSLock()
