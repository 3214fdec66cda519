#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ServiceSupport
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
            if isFree(port) { return port }
        }
        throw ConfigurationError("no free port between 12000 and 19999")
    }

    private static func isFree(_ port: Int) -> Bool {
        #if canImport(Darwin)
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #else
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
