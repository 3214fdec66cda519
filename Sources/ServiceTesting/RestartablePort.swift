import Foundation
import ServiceSupport
import Supervisor
import Synchronization

/// A free port on 127.0.0.1 for a service a test stops and starts again
/// where its clients expect it.
///
/// It lies below the kernel's ephemeral range (32768 and up on Linux), so a
/// server another test starts on port 0 meanwhile never takes it; and below
/// the range the `shop up` tests probe (20000-32000). Each call probes the
/// next port of 12000-19999 until one binds.
public func restartablePort() throws -> Int {
    try RestartablePorts.next()
}

private enum RestartablePorts {
    static let cursor = Mutex(12_000 + Int(getpid() % 800) * 10)

    static func next() throws -> Int {
        for _ in 0..<1_000 {
            let port = cursor.withLock { cursor -> Int in
                defer { cursor = cursor >= 19_999 ? 12_000 : cursor + 1 }
                return cursor
            }
            if PortProbe.problem(host: "127.0.0.1", port: port) == nil { return port }
        }
        throw ConfigurationError("no free port between 12000 and 19999")
    }
}
