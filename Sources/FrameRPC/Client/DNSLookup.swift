#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOPosix

/// The addresses of a DNS name, by `getaddrinfo`, which blocks: it runs on
/// NIO's shared thread pool, never on an event loop or the cooperative pool.
enum DNSLookup {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Every IPv4 and IPv6 address of `host` (A and AAAA records, or the
    /// hosts file), with `port`, in the order the system gives them,
    /// without repeats.
    static func addresses(of host: String, port: Int) async throws -> [RPCAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            try lookUp(host, port: port)
        }
    }

    private static func lookUp(_ host: String, port: Int) throws -> [RPCAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            throw Failure(description: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [RPCAddress] = []
        var next = list
        while let entry = next {
            next = entry.pointee.ai_next
            guard let numeric = numericHost(entry.pointee) else { continue }
            let address = RPCAddress(host: numeric, port: port)
            if !addresses.contains(address) { addresses.append(address) }
        }
        return addresses
    }

    /// `127.0.0.1` or `::1` for one result of `getaddrinfo`.
    private static func numericHost(_ entry: addrinfo) -> String? {
        guard let socketAddress = entry.ai_addr else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let written: UnsafePointer<CChar>?
        switch entry.ai_family {
        case AF_INET:
            written = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                var raw = ipv4.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
            }
        case AF_INET6:
            written = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { ipv6 in
                var raw = ipv6.pointee.sin6_addr
                return inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
            }
        default:
            return nil
        }
        guard written != nil else { return nil }
        return String(cString: text)
    }
}
