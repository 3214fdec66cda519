import FrameRPC
import Testing

@Suite("Address targets: parsing")
struct TargetParsingTests {
    @Test("HOST:PORT is one address")
    func oneAddress() throws {
        #expect(try RPCTarget(parsing: "10.0.0.1:7001") == .addresses([RPCAddress(host: "10.0.0.1", port: 7001)]))
        #expect(try RPCTarget(parsing: "user.shop.svc:7001") == .address(host: "user.shop.svc", port: 7001))
    }

    @Test("a comma-separated list is several addresses, in order, spaces allowed")
    func list() throws {
        let target = try RPCTarget(parsing: " 10.0.0.1:7001, 10.0.0.2:7001 ,localhost:7003")
        #expect(target == .addresses([
            RPCAddress(host: "10.0.0.1", port: 7001),
            RPCAddress(host: "10.0.0.2", port: 7001),
            RPCAddress(host: "localhost", port: 7003),
        ]))
    }

    @Test("an IPv6 address goes in brackets and is kept without them")
    func ipv6() throws {
        #expect(try RPCTarget(parsing: "[::1]:7001") == .address(host: "::1", port: 7001))
        #expect(RPCAddress(host: "::1", port: 7001).description == "[::1]:7001")
    }

    @Test("dns://NAME:PORT is a DNS name")
    func dns() throws {
        #expect(try RPCTarget(parsing: "dns://user.shop.svc:7001") == .dns(host: "user.shop.svc", port: 7001))
        #expect(try RPCTarget(parsing: "DNS://localhost:80") == .dns(host: "localhost", port: 80))
    }

    @Test("the description parses back to the same target", arguments: [
        "10.0.0.1:7001", "10.0.0.1:7001,10.0.0.2:7002", "[::1]:7001,127.0.0.1:7001", "dns://user.shop.svc:7001",
    ])
    func roundTrip(_ text: String) throws {
        let target = try RPCTarget(parsing: text)
        #expect(try RPCTarget(parsing: target.description) == target)
        #expect(target.description == text)
    }

    @Test("bad input is a typed error, never a crash", arguments: [
        ("", RPCTarget.ParseError.empty),
        ("   ", .empty),
        (":7001", .missingHost(":7001")),
        ("host", .missingPort("host")),
        ("host:", .missingPort("host:")),
        ("host:0", .badPort("host:0")),
        ("host:65536", .badPort("host:65536")),
        ("host:-1", .badPort("host:-1")),
        ("host:http", .badPort("host:http")),
        ("host:٣٣", .badPort("host:٣٣")),
        ("a:1,,b:2", .emptyAddress),
        ("a:1,", .emptyAddress),
        ("a:1,a:1", .duplicate("a:1")),
        ("::1:7001", .malformedAddress("::1:7001")),
        ("[::1:7001", .malformedAddress("[::1:7001")),
        ("[::1]7001", .missingPort("[::1]7001")),
        ("my host:7001", .malformedAddress("my host:7001")),
        ("http://a:1", .unknownScheme("http")),
        ("dns://a:1,b:2", .dnsList("dns://a:1,b:2")),
        ("dns://", .emptyAddress),
        ("dns://name", .missingPort("name")),
        ("dns://name:7001/path", .malformedAddress("name:7001/path")),
    ])
    func badInput(_ text: String, _ expected: RPCTarget.ParseError) {
        #expect(throws: expected) { try RPCTarget(parsing: text) }
    }

    @Test("errors say what is wrong in words")
    func errorText() {
        #expect(RPCTarget.ParseError.badPort("h:0").description.contains("between 1 and 65535"))
        #expect(RPCTarget.ParseError.unknownScheme("http").description.contains("dns://NAME:PORT"))
    }
}
