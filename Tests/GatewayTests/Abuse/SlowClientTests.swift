import Foundation
@testable import Gateway
import ServiceTesting
import Testing

/// Issue 11, item 4: bodies trickled in to hold slots, and connections by
/// the thousand from one address.
@Suite("Slow bodies and connections per address over TCP")
struct SlowClientTests {
    @Test("a body trickling in a byte at a time is cut off with 408 after the body timeout; others are served meanwhile")
    func tricklingBody() async throws {
        try await withDeadGateway({ $0.bodyTimeout = .milliseconds(500); $0.idleTimeout = .seconds(30) }) { http, _ throws in
            let port = http.port
            let clock = ContinuousClock()
            let start = clock.now
            let trickler = Task {
                try await onOwnThread { () throws -> (RawHTTPConnection.Response?, Bool) in
                    let connection = try RawHTTPConnection(port: port)
                    defer { connection.hangUp() }
                    let head = "POST /api/users/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                    guard connection.send(head) else { return (nil, false) }
                    // A byte every 100 ms: never idle, never done.
                    let sender = Thread {
                        for _ in 0..<100 {
                            guard connection.send("{") else { return }
                            Thread.sleep(forTimeInterval: 0.1)
                        }
                    }
                    sender.start()
                    let response = try connection.readResponse()
                    return (response, connection.waitForClose())
                }
            }
            #expect(try await http.get("/").status == 200)
            let (response, closed) = try await trickler.value
            let elapsed = clock.now - start
            // Cut off: a 408 first when it gets through, then the end.
            let answeredRight = response.map { $0.status == 408 && $0.headers["connection"] == "close" } ?? true
            #expect(answeredRight)
            #expect(closed)
            #expect(elapsed < .seconds(8))
            #expect(try await http.get("/").status == 200)
        }
    }

    @Test("a body sent within the timeout is read as usual")
    func promptBody() async throws {
        try await withDeadGateway({ $0.bodyTimeout = .milliseconds(500) }) { http, _ throws in
            let reply = try await rawRequest(port: http.port, RawHTTPConnection.request("POST", "/api/users/", body: "{"))
            #expect(reply?.status == 400)
        }
    }

    @Test("connections beyond the per-address cap are closed at once while another address is served")
    func connectionsPerAddress() async throws {
        try await withDeadGateway({ $0.maximumConnectionsPerAddress = 3 }) { http, _ throws in
            let port = http.port
            // The test client may hold one connection from 127.0.0.1 too.
            #expect(try await http.get("/").status == 200)
            // Four connections from 127.0.0.1, one after another, each kept
            // open after its answer.
            var held: [RawHTTPConnection] = []
            defer { for connection in held { connection.hangUp() } }
            var statuses: [Int?] = []
            for _ in 0..<4 {
                let connection = try await onOwnThread { try RawHTTPConnection(port: port) }
                held.append(connection)
                statuses.append(try await onOwnThread { () throws -> Int? in
                    guard connection.send(RawHTTPConnection.request("GET", "/")) else { return nil }
                    return try connection.readResponse()?.status
                })
            }
            // Two or three served (three less the test client's), the rest closed.
            let served = statuses.prefix { $0 == 200 }.count
            #expect(served == 2 || served == 3)
            let restClosed = statuses.dropFirst(served).allSatisfy { $0 == nil }
            #expect(restClosed)

            let elsewhere = try await rawRequest(port: port, from: "127.0.0.2", RawHTTPConnection.request("GET", "/"))
            #expect(elsewhere?.status == 200)

            // A connection closed gives its place back.
            held[0].hangUp()
            let again = try await eventually {
                try await rawRequest(port: port, RawHTTPConnection.request("GET", "/"))?.status == 200
            }
            #expect(again)
        }
    }
}
