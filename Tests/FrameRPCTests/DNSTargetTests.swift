@testable import FrameRPC
import Foundation
import Synchronization
import Testing

/// DNS answers a test changes at will, in place of `getaddrinfo`.
final class ScriptedDNS: Sendable {
    enum Answer: Sendable {
        case addresses([RPCAddress])
        case failure(String)
    }

    private let answer: Mutex<Answer>
    private let lookups = Atomic<Int>(0)

    init(_ answer: Answer) {
        self.answer = Mutex(answer)
    }

    func answer(_ next: Answer) { answer.withLock { $0 = next } }
    var lookupCount: Int { lookups.load(ordering: .relaxed) }

    func lookUp(_ host: String, _ port: Int) throws -> [RPCAddress] {
        lookups.wrappingAdd(1, ordering: .relaxed)
        switch answer.withLock({ $0 }) {
        case .addresses(let addresses): return addresses
        case .failure(let reason): throw DNSLookup.Failure(description: reason)
        }
    }

    /// A client configuration that asks this script, every 20 ms.
    var configuration: RPCClient.Configuration {
        var configuration = RPCClient.Configuration(dnsRefreshInterval: .milliseconds(20))
        configuration.dnsLookup = { host, port in try self.lookUp(host, port) }
        return configuration
    }
}

@Suite("DNS targets")
struct DNSTargetTests {
    static func local(_ port: Int) -> RPCAddress { RPCAddress(host: "127.0.0.1", port: port) }

    @Test("dns://localhost:PORT reaches a server on 127.0.0.1 (an IPv6 answer that refuses is only an unhealthy endpoint)")
    func localhost() async throws {
        try await withCountedServer { port, served throws in
            let client = RPCClient(target: try RPCTarget(parsing: "dns://localhost:\(port)"))
            defer { client.shutdown() }
            for index in 0..<20 {
                #expect(try await client.echo("call \(index)") == "call \(index)")
            }
            #expect(served.total == 20)
            let addresses = client.endpoints.map(\.address)
            #expect(addresses.contains(Self.local(port)))
            #expect(addresses.allSatisfy { $0.port == port && ($0.host == "127.0.0.1" || $0.host == "::1") }, "\(addresses)")
        }
    }

    @Test("the lookup runs off the event loops and returns numeric addresses")
    func realLookup() async throws {
        let addresses = try await DNSLookup.addresses(of: "localhost", port: 7001)
        #expect(addresses.contains(RPCAddress(host: "127.0.0.1", port: 7001)) || addresses.contains(RPCAddress(host: "::1", port: 7001)))
    }

    @Test("a changed answer moves calls to the new endpoints")
    func answerChanges() async throws {
        try await withCountedServer { first, servedFirst throws in
            try await withCountedServer { second, servedSecond throws in
                let dns = ScriptedDNS(.addresses([Self.local(first)]))
                let client = RPCClient(target: .dns(host: "product.test", port: 1), configuration: dns.configuration)
                defer { client.shutdown() }
                for _ in 0..<10 { _ = try await client.echo("one") }
                #expect(servedFirst.total == 10)

                dns.answer(.addresses([Self.local(first), Self.local(second)]))
                #expect(await eventually { client.endpoints.count == 2 })
                dns.answer(.addresses([Self.local(second)]))
                #expect(await eventually { client.endpoints.map(\.address) == [Self.local(second)] })
                for _ in 0..<10 { _ = try await client.echo("two") }
                #expect(servedSecond.total == 10)
                #expect(servedFirst.total == 10)
            }
        }
    }

    @Test("a failed lookup keeps the last good endpoints")
    func failureKeepsEndpoints() async throws {
        try await withCountedServer { port, served throws in
            let dns = ScriptedDNS(.addresses([Self.local(port)]))
            let client = RPCClient(target: .dns(host: "product.test", port: 1), configuration: dns.configuration)
            defer { client.shutdown() }
            _ = try await client.echo("before")
            dns.answer(.failure("server failure"))
            let looked = dns.lookupCount
            #expect(await eventually { dns.lookupCount > looked + 1 })
            #expect(client.endpoints.map(\.address) == [Self.local(port)])
            _ = try await client.echo("after")
            #expect(served.total == 2)
        }
    }

    @Test("a name without addresses fails calls with UNAVAILABLE naming it, never sent")
    func unresolvable() async throws {
        let dns = ScriptedDNS(.failure("no such host"))
        let client = RPCClient(target: .dns(host: "nowhere.test", port: 7001), configuration: dns.configuration)
        defer { client.shutdown() }
        let error = await rpcError { _ = try await client.echo("anyone?") }
        #expect(error?.code == .unavailable)
        #expect(error?.neverProcessed == true)
        #expect(error?.message.contains("dns://nowhere.test:7001") == true)
        #expect(error?.message.contains("no such host") == true)
    }

    @Test("shutting a DNS client down stops its lookups")
    func shutdownStopsLookups() async throws {
        let dns = ScriptedDNS(.addresses([Self.local(9)]))
        let client = RPCClient(target: .dns(host: "product.test", port: 1), configuration: dns.configuration)
        #expect(await eventually { dns.lookupCount >= 2 })
        client.shutdown()
        try await Task.sleep(for: .milliseconds(50))
        let after = dns.lookupCount
        try await Task.sleep(for: .milliseconds(200))
        #expect(dns.lookupCount == after)
        let error = await rpcError { _ = try await client.echo("late") }
        #expect(error?.code == .unavailable)
    }

    @Test("a DNS client nobody holds stops its lookups")
    func releaseStopsLookups() async throws {
        let dns = ScriptedDNS(.addresses([Self.local(9)]))
        do {
            let client = RPCClient(target: .dns(host: "product.test", port: 1), configuration: dns.configuration)
            #expect(await eventually { dns.lookupCount >= 2 })
            withExtendedLifetime(client) {}
        }
        try await Task.sleep(for: .milliseconds(100))
        let after = dns.lookupCount
        try await Task.sleep(for: .milliseconds(200))
        #expect(dns.lookupCount <= after + 1)
    }
}
