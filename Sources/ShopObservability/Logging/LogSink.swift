#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where finished log lines go. Each call gets one whole line, newline
/// included, and must write it without interleaving it with another.
public protocol LogSink: Sendable {
    func write(_ line: [UInt8])
}

/// A file descriptor, standard error by default: one `write(2)` per line
/// under a lock, so lines from concurrent tasks never mix and nothing sits
/// in a buffer when the process dies.
public final class FileDescriptorLogSink: LogSink {
    /// The process's standard error: logs stay apart from `shop serve`'s
    /// `ready` line on standard output.
    public static let standardError = FileDescriptorLogSink(fileDescriptor: 2)
    public static let standardOutput = FileDescriptorLogSink(fileDescriptor: 1)

    private let fileDescriptor: Int32
    private let lock = Mutex(())

    public init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    public func write(_ line: [UInt8]) {
        lock.withLock { _ in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = systemWrite(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.write(fd, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(fd, buffer, count)
    #else
    return Glibc.write(fd, buffer, count)
    #endif
}

/// Keeps every line in memory: for tests that read what was logged.
public final class InMemoryLogSink: LogSink {
    private let storage = Mutex<[String]>([])

    public init() {}

    public func write(_ line: [UInt8]) {
        var text = String(decoding: line, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        storage.withLock { $0.append(text) }
    }

    /// The lines written so far, oldest first, without their newlines.
    public var lines: [String] { storage.withLock { $0 } }
}
