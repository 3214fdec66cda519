import Foundation
@testable import Gateway
import RESTTranscoding
import ServiceTesting
import Testing

/// Issue 11, item 2: Server-Sent Events streams must not take the
/// upstream's call slots from every other route.
@Suite("Event stream budget over HTTP")
struct EventStreamBudgetTests {
    /// A user's confirmed order: (user token, order id).
    static func placedOrder(_ http: HTTP, admin: String, productID: String) async throws -> (token: String, orderID: String) {
        let user = try await http.newUser()
        let orderID = try #require(try await http.order(token: user.token, productID: productID, quantity: 1).string("id"))
        return (user.token, orderID)
    }

    /// Opens `/api/orders/{id}/events` on a connection of its own.
    static func open(_ http: HTTP, orderID: String, token: String) async throws -> (StreamingHTTPConnection, status: Int, headers: [String: String]) {
        try await onOwnThread {
            let connection = try StreamingHTTPConnection(port: http.port)
            try connection.sendRequest(path: "/api/orders/\(orderID)/events", headers: ["Authorization": "Bearer \(token)"])
            let head = try connection.readHead()
            return (connection, head.status, head.headers)
        }
    }

    @Test("one account opening ten streams gets four, then 429 with Retry-After; its order routes and /health still answer 200")
    func perUserCap() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: productID, available: 10)
            let (token, orderID) = try await Self.placedOrder(http, admin: admin, productID: productID)

            var open: [StreamingHTTPConnection] = []
            defer { for connection in open { connection.hangUp() } }
            var statuses: [Int] = []
            var retryAfter: [String?] = []
            for _ in 0..<10 {
                let (connection, status, headers) = try await Self.open(http, orderID: orderID, token: token)
                statuses.append(status)
                if status == 200 { open.append(connection) } else { retryAfter.append(headers["retry-after"]); connection.hangUp() }
            }
            #expect(statuses == Array(repeating: 200, count: 4) + Array(repeating: 429, count: 6))
            let waits = retryAfter.map { Int($0 ?? "") ?? 0 }
            let allSayWhen = waits.count == 6 && waits.allSatisfy { $0 >= 1 }
            #expect(allSayWhen)

            #expect(try await http.get("/api/orders/\(orderID)", token: token).status == 200)
            #expect(try await http.get("/api/orders/", token: token).status == 200)
            #expect(try await http.get("/health").status == 200)
            // Another user still gets a stream.
            let (otherToken, otherOrder) = try await Self.placedOrder(http, admin: admin, productID: productID)
            let (other, otherStatus, _) = try await Self.open(http, orderID: otherOrder, token: otherToken)
            defer { other.hangUp() }
            #expect(otherStatus == 200)
        }
    }

    @Test("past the gateway-wide cap every user gets 429, and a closed stream gives its place back")
    func globalCap() async throws {
        try await withShopServices { upstreams throws in
            let configuration = GatewayHarness.configuration(upstreams: upstreams) {
                $0.maximumStreamsPerUser = 2
                $0.maximumStreams = 3
            }
            try await withGateway(configuration) { http, _ throws in
                let admin = try await http.adminToken()
                let productID = try await http.createProduct(admin: admin)
                try await http.setStock(admin: admin, productID: productID, available: 10)
                let first = try await Self.placedOrder(http, admin: admin, productID: productID)
                let second = try await Self.placedOrder(http, admin: admin, productID: productID)
                let third = try await Self.placedOrder(http, admin: admin, productID: productID)

                let a = try await Self.open(http, orderID: first.orderID, token: first.token)
                let b = try await Self.open(http, orderID: first.orderID, token: first.token)
                let c = try await Self.open(http, orderID: second.orderID, token: second.token)
                defer { a.0.hangUp(); b.0.hangUp(); c.0.hangUp() }
                let statuses: [Int] = [a.status, b.status, c.status]
                #expect(statuses == [200, 200, 200])

                let refused = try await Self.open(http, orderID: third.orderID, token: third.token)
                refused.0.hangUp()
                #expect(refused.status == 429)
                #expect(refused.headers["retry-after"] != nil)
                #expect(try await http.get("/health").status == 200)

                a.0.hangUp()
                let reopened = Locked<StreamingHTTPConnection?>(nil)
                defer { reopened.value?.hangUp() }
                let served = try await eventually {
                    let attempt = try await Self.open(http, orderID: third.orderID, token: third.token)
                    guard attempt.status == 200 else { attempt.0.hangUp(); return false }
                    reopened.value = attempt.0
                    return true
                }
                #expect(served)
            }
        }
    }
}

