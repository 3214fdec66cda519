import Foundation
@testable import Gateway
import RESTTranscoding
import ServiceTesting
import Testing

/// `GET /api/orders/{id}/events` as Server-Sent Events, read off a raw
/// socket as the bytes arrive.
@Suite("Order events as Server-Sent Events")
struct EventStreamTests {
    /// A user with a confirmed order, and an admin.
    func placedOrder(_ http: HTTP) async throws -> (admin: String, user: String, orderID: String) {
        let admin = try await http.adminToken()
        let productID = try await http.createProduct(admin: admin)
        try await http.setStock(admin: admin, productID: productID, available: 5)
        let user = try await http.newUser()
        let orderID = try #require(try await http.order(token: user.token, productID: productID, quantity: 1).string("id"))
        return (admin, user.token, orderID)
    }

    /// Opens the event stream in a detached task-friendly connection.
    func open(_ http: HTTP, orderID: String, token: String) throws -> (StreamingHTTPConnection, status: Int, headers: [String: String]) {
        let connection = try StreamingHTTPConnection(port: http.port)
        try connection.sendRequest(path: "/api/orders/\(orderID)/events", headers: ["Authorization": "Bearer \(token)", "Accept": "text/event-stream"])
        let head = try connection.readHead()
        return (connection, head.status, head.headers)
    }

    func readEvent(_ connection: StreamingHTTPConnection) async throws -> (event: String, data: String)? {
        try await onOwnThread { try connection.readEvent() }
    }

    @Test("the stream starts with the current order and sends each status change until delivered")
    func followsTheOrder() async throws {
        try await withShop { http throws in
            let (admin, user, orderID) = try await placedOrder(http)
            let (connection, status, headers) = try await onOwnThread { try open(http, orderID: orderID, token: user) }
            defer { connection.hangUp() }
            #expect(status == 200)
            #expect(headers["content-type"] == "text/event-stream")
            #expect(headers["x-request-id"] != nil)

            let first = try #require(try await readEvent(connection))
            #expect(first.event == "order")
            let firstJSON = try JSONParser.parse(Array(first.data.utf8))
            #expect(firstJSON["status"] == .string("confirmed"))
            #expect(firstJSON["id"] == .string(orderID))

            #expect(try await http.put("/api/orders/\(orderID)/status", token: admin, json: #"{"status":"shipped"}"#).status == 200)
            let shipped = try #require(try await readEvent(connection))
            #expect(try JSONParser.parse(Array(shipped.data.utf8))["status"] == .string("shipped"))

            #expect(try await http.put("/api/orders/\(orderID)/status", token: admin, json: #"{"status":"delivered"}"#).status == 200)
            let delivered = try #require(try await readEvent(connection))
            #expect(try JSONParser.parse(Array(delivered.data.utf8))["status"] == .string("delivered"))

            #expect(try await readEvent(connection) == nil)
        }
    }

    @Test("an idle stream gets heartbeat comments")
    func heartbeat() async throws {
        try await withShop({ $0.heartbeatInterval = .milliseconds(100) }) { http throws in
            let (_, user, orderID) = try await placedOrder(http)
            let (connection, status, _) = try await onOwnThread { try open(http, orderID: orderID, token: user) }
            defer { connection.hangUp() }
            #expect(status == 200)
            #expect(try await readEvent(connection)?.event == "order")
            let next = try await readEvent(connection)
            #expect(next?.event == ":comment")
            #expect(next?.data.contains("heartbeat") == true)
        }
    }

    @Test("someone else's order is refused with a plain 403 before any event")
    func foreignStream() async throws {
        try await withShop { http throws in
            let (_, _, orderID) = try await placedOrder(http)
            let other = try await http.newUser()
            let reply = try await http.get("/api/orders/\(orderID)/events", token: other.token)
            #expect(reply.status == 403)
            #expect(reply.code == "PERMISSION_DENIED")
            #expect(try await http.get("/api/orders/\(orderID)/events").status == 401)
        }
    }

    @Test("when the client goes away the streaming call is cancelled")
    func clientLeaves() async throws {
        let shopRan = try await withShopServices { upstreams throws in
            try await withGateway(GatewayHarness.configuration(upstreams: upstreams)) { http, directory throws in
                let (_, user, orderID) = try await placedOrder(http)
                let order = try #require(directory.upstream(forService: "shop.order.v1.OrderService"))
                let (connection, status, _) = try await onOwnThread { try open(http, orderID: orderID, token: user) }
                #expect(status == 200)
                #expect(try await readEvent(connection)?.event == "order")
                #expect(order.openStreams == 1)
                connection.hangUp()
                #expect(try await eventually { order.openStreams == 0 })
                return true
            }
        }
        #expect(shopRan)
    }
}
