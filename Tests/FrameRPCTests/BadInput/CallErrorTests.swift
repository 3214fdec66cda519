import Foundation
import FrameRPC
import SwiftProtobuf
import Testing

extension BadInput {
    /// PROTOCOL.md section 6, rows 4 to 8: errors that end one call with a
    /// status while the connection stays open.
    @Suite("Call errors")
    struct CallErrors {
        @Test(
            "unknown method: Response UNIMPLEMENTED (12), connection stays open",
            arguments: ["/test.v1.Echo/Nope", "/nope.v1.Nothing/Say", "/test.v1.Echo/say", "not a method", "", String(repeating: "/x", count: 5000)]
        )
        func unknownMethod(method: String) async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.request(callID: 1, method: method, payload: try StringValue("x").serializedData()))
                let first = await connection.waitForResponses([1])
                expectStatus(first, callID: 1, code: 12)
                #expect(!first.closed)
                #expect(first.goAways.isEmpty)
                // The same connection still serves.
                try await connection.send(Wire.say(callID: 3, "second"))
                let second = await connection.waitForResponses([3])
                expectReply(second, callID: 3, "echo: second")
                #expect(!second.closed)
                #expect(second.frames.count == 2)
                await expectServerHealthy(port: port)
            }
        }

        static let undecodablePayloads: [BadBytes] = [
            BadBytes(name: "truncated string field", bytes: [0x0A, 0x05, 0x41]),
            BadBytes(name: "invalid UTF-8 in string", bytes: [0x0A, 0x02, 0xFF, 0xFE]),
            BadBytes(name: "overlong varint", bytes: [UInt8](repeating: 0xFF, count: 11)),
            BadBytes(name: "field number 0", bytes: [0x00, 0x00]),
        ]

        @Test("undecodable payload for a known method: Response INVALID_ARGUMENT (3)", arguments: undecodablePayloads)
        func undecodablePayload(payload: BadBytes) async throws {
            #expect(throws: (any Error).self) { try StringValue(serializedBytes: payload.bytes) }
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.request(callID: 1, method: TestMethod.say, payload: Data(payload.bytes)))
                let first = await connection.waitForResponses([1])
                expectStatus(first, callID: 1, code: 3)
                #expect(!first.closed)
                try await connection.send(Wire.say(callID: 3, "next"))
                expectReply(await connection.waitForResponses([3]), callID: 3, "echo: next")
                await expectServerHealthy(port: port)
            }
        }

        static let oversizedMetadata: [(name: String, metadata: [String: String])] = [
            ("one value of 9000 bytes", ["x-big": String(repeating: "a", count: 9000)]),
            ("one byte over 8 KiB", ["k": String(repeating: "v", count: 8 * 1024)]),
            ("200 keys of 50 bytes", Dictionary(uniqueKeysWithValues: (0..<200).map { (String(format: "key-%04d", $0), String(repeating: "v", count: 42)) })),
        ]

        @Test("metadata over 8 KiB: Response RESOURCE_EXHAUSTED (8)", arguments: 0..<3)
        func metadataTooLarge(index: Int) async throws {
            let metadata = Self.oversizedMetadata[index].metadata
            #expect(metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count } > 8 * 1024)
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.say(callID: 1, "heavy", metadata: metadata))
                let first = await connection.waitForResponses([1])
                expectStatus(first, callID: 1, code: 8)
                #expect(!first.closed)
                try await connection.send(Wire.say(callID: 3, "light"))
                expectReply(await connection.waitForResponses([3]), callID: 3, "echo: light")
                await expectServerHealthy(port: port)
            }
        }

        @Test("metadata of exactly 8 KiB is accepted")
        func metadataAtLimit() async throws {
            let metadata = ["k": String(repeating: "v", count: 8 * 1024 - 1)]
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.say(callID: 1, "at limit", metadata: metadata))
                expectReply(await connection.waitForResponses([1]), callID: 1, "echo: at limit")
            }
        }

        /// Two calls fill the connection's allowance (2); the third gets
        /// RESOURCE_EXHAUSTED at once; the first two still complete.
        @Test("more concurrent calls than allowed: RESOURCE_EXHAUSTED (8) for the new call (raw socket)")
        func tooManyConcurrentCallsRaw() async throws {
            let service = TestService()
            try await withServer(maximumConcurrentCallsPerConnection: 2, service: service) { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.call(TestMethod.block, callID: 1, "one") + Wire.call(TestMethod.block, callID: 3, "two"))
                #expect(await service.gate.waitForArrivals(2))
                try await connection.send(Wire.call(TestMethod.block, callID: 5, "three"))
                let refused = await connection.waitForResponses([5])
                expectStatus(refused, callID: 5, code: 8)
                #expect(refused.frames.count == 1, "only the third call is answered: \(refused.frames.map(\.badInputDescription))")
                #expect(!refused.closed)
                #expect(service.gate.arrivals == 2, "the refused call must not reach its handler")

                // Another connection has its own allowance.
                await expectServerHealthy(port: port)

                service.gate.open()
                let done = await connection.waitForResponses([1, 3])
                expectReply(done, callID: 1, "released: one")
                expectReply(done, callID: 3, "released: two")
                #expect(!done.closed)

                // The allowance is free again.
                try await connection.send(Wire.say(callID: 7, "after"))
                expectReply(await connection.waitForResponses([7]), callID: 7, "echo: after")
                await expectServerHealthy(port: port)
            }
        }

        /// PROTOCOL.md section 8: the client learned the limit of 2, so it
        /// holds the third call instead of having it refused.
        @Test("more concurrent calls than allowed through RPCClient: the extra call waits for a slot, then completes")
        func tooManyConcurrentCallsClient() async throws {
            let service = TestService()
            try await withServer(maximumConcurrentCallsPerConnection: 2, service: service) { _, port in
                let client = RPCClient(host: "127.0.0.1", port: port)
                defer { client.shutdown() }
                let options = CallOptions(timeout: .seconds(20))
                async let first = client.unary(method: TestMethod.block, request: StringValue("one"), response: StringValue.self, options: options)
                async let second = client.unary(method: TestMethod.block, request: StringValue("two"), response: StringValue.self, options: options)
                #expect(await service.gate.waitForArrivals(2))
                async let third = client.unary(method: TestMethod.say, request: StringValue("three"), response: StringValue.self, options: options)
                // Held in the client: neither refused nor answered while both slots are taken.
                try await Task.sleep(for: .milliseconds(200))
                service.gate.open()
                #expect(try await first.value == "released: one")
                #expect(try await second.value == "released: two")
                #expect(try await third.value == "echo: three")
            }
        }

        @Test("a handler throwing a non-RPC error: Response INTERNAL (13), message exactly \"internal error\"")
        func handlerThrowsRaw() async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.call(TestMethod.fail, callID: 1, "boom"))
                let snapshot = await connection.waitForResponses([1])
                let response = expectStatus(snapshot, callID: 1, code: 13)
                #expect(response?.status.message == "internal error")
                #expect(response?.status.details.isEmpty == true)
                #expect(response?.trailers.isEmpty == true)
                #expect(!snapshot.closed)
                try await connection.send(Wire.say(callID: 3, "next"))
                expectReply(await connection.waitForResponses([3]), callID: 3, "echo: next")
                await expectServerHealthy(port: port)
            }
        }

        @Test("a handler throwing a non-RPC error: RPCClient sees INTERNAL \"internal error\", no details leak")
        func handlerThrowsClient() async throws {
            try await withServer { _, port in
                let client = RPCClient(host: "127.0.0.1", port: port)
                defer { client.shutdown() }
                do {
                    _ = try await client.unary(method: TestMethod.fail, request: StringValue("boom"), response: StringValue.self, options: CallOptions(timeout: .seconds(3)))
                    Issue.record("the failing handler's call succeeded")
                } catch let error as RPCError {
                    #expect(error.code == .internal)
                    #expect(error.message == "internal error")
                    #expect(!"\(error)".contains("hunter2"))
                    #expect(error.details.isEmpty)
                }
                await expectServerHealthy(port: port)
            }
        }

        /// Row 8: after `GoAway{code: 0}` new calls get UNAVAILABLE, calls up
        /// to `last_call_id` complete, then the connection closes.
        @Test("server draining: new calls UNAVAILABLE (14), calls up to last_call_id complete")
        func draining() async throws {
            let service = TestService()
            try await withServer(service: service) { server, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.call(TestMethod.block, callID: 1, "in flight"))
                #expect(await service.gate.waitForArrivals(1))

                server.beginGracefulShutdown()
                let goAway = await connection.wait { !$0.goAways.isEmpty }
                #expect(goAway.goAways.first?.code == 0)
                #expect(goAway.goAways.first?.lastCallID == 1)
                #expect(goAway.frames.first?.callID == 0)

                try await connection.send(Wire.say(callID: 3, "too late"))
                let refused = await connection.waitForResponses([3])
                expectStatus(refused, callID: 3, code: 14)
                #expect(!refused.closed, "the call in flight is not done yet")

                service.gate.open()
                let done = await connection.waitForClose()
                expectReply(done, callID: 1, "released: in flight")
                #expect(done.closed)
                #expect(!done.timedOut)
                #expect(done.frames.count == 3, "\(done.frames.map(\.badInputDescription))")
            }
        }
    }
}
