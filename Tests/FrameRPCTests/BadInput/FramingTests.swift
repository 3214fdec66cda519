import Foundation
import FrameRPC
import SwiftProtobuf
import Testing

extension BadInput {
    /// PROTOCOL.md section 6, rows 1 and 2: bad lengths, bad bodies, frame
    /// kinds a client may not send, and strangers on the port.
    @Suite("Framing")
    struct Framing {
        @Test("frame length 0: GoAway 13 and close")
        func zeroLength() async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.lengthHeader(0))
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        @Test("frame length 0 after a valid frame: the valid call is answered, then GoAway 13 and close")
        func zeroLengthAfterValidFrame() async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.say(callID: 1, "first"))
                expectReply(await connection.waitForResponses([1]), callID: 1, "echo: first")
                try await connection.send(Wire.lengthHeader(0))
                expectProtocolError(await connection.waitForClose(), precedingFrames: 1)
                await expectServerHealthy(port: port)
            }
        }

        /// Only the header is sent: the server must react to the length alone
        /// and never wait for (or buffer) the body.
        @Test(
            "frame length over the maximum: GoAway 13 and close without waiting for the body",
            arguments: [UInt32(1025), UInt32(64 * 1024), UInt32(0x0100_0000), UInt32.max]
        )
        func overMaximum(length: UInt32) async throws {
            try await withServer(maximumFrameSize: 1024) { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.lengthHeader(length) + [0x12, 0x03])
                expectProtocolError(await connection.waitForClose(timeout: .seconds(2)))
                await expectServerHealthy(port: port)
            }
        }

        @Test("a whole frame one byte over the maximum: GoAway 13 and close")
        func wholeFrameOverMaximum() async throws {
            try await withServer(maximumFrameSize: 1024) { _, port in
                let body = try #require(Self.requestBody(ofSize: 1025))
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.prefixed(body))
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        @Test("a frame of exactly the maximum size is accepted")
        func exactlyMaximum() async throws {
            try await withServer(maximumFrameSize: 1024) { _, port in
                let body = try #require(Self.requestBody(ofSize: 1024))
                #expect(body.count == 1024)
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.prefixed(body))
                let snapshot = await connection.waitForResponses([1])
                let reply = expectStatus(snapshot, callID: 1, code: 0)
                #expect(reply.flatMap { try? StringValue(serializedBytes: $0.payload) }?.value.hasPrefix("echo: x") == true)
                #expect(!snapshot.closed)
            }
        }

        static let garbageBodies: [BadBytes] = [
            BadBytes(name: "overlong varint tag", bytes: [UInt8](repeating: 0xFF, count: 11)),
            BadBytes(name: "field number 0", bytes: [0x00, 0x01, 0x02, 0x03]),
            BadBytes(name: "wire type 7", bytes: [0x0F, 0x01]),
            BadBytes(name: "truncated Request field", bytes: [0x08, 0x01, 0x12, 0x40, 0x0A, 0x01]),
            BadBytes(name: "random bytes", bytes: [0xDE, 0xAD, 0xBE, 0xEF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        ]

        @Test("a body that is not a valid Frame: GoAway 13 and close", arguments: garbageBodies)
        func garbageBody(garbage: BadBytes) async throws {
            // The bytes really are no Frame.
            #expect(throws: (any Error).self) { try Framerpc_V1_Frame(serializedBytes: garbage.bytes) }
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.prefixed(garbage.bytes))
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        static let framesWithoutKind: [BadBytes] = [
            BadBytes(name: "call_id only", bytes: [0x08, 0x01]),
            BadBytes(name: "unknown field only", bytes: [0x78, 0x05]),
            BadBytes(name: "unknown length-delimited field", bytes: [0xA2, 0x06, 0x03, 0x61, 0x62, 0x63]),
        ]

        @Test("a Frame with no kind set: GoAway 13 and close", arguments: framesWithoutKind)
        func noKind(body: BadBytes) async throws {
            let decoded = try Framerpc_V1_Frame(serializedBytes: body.bytes)
            #expect(decoded.kind == nil)
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.prefixed(body.bytes))
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        @Test("a Response sent by the client: GoAway 13 and close")
        func responseFromClient() async throws {
            var frame = Framerpc_V1_Frame()
            frame.callID = 1
            frame.response = .with {
                $0.status = .with { $0.code = 0 }
                $0.payload = try! StringValue("hi").serializedData()
            }
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.frame(frame))
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        @Test("a Response sent by the client for a call in flight: GoAway 13 and close")
        func responseForCallInFlight() async throws {
            let service = TestService()
            var frame = Framerpc_V1_Frame()
            frame.callID = 1
            frame.response = .with { $0.status = .with { $0.code = 0 } }
            try await withServer(service: service) { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.call(TestMethod.block, callID: 1, "x"))
                #expect(await service.gate.waitForArrivals(1))
                try await connection.send(Wire.frame(frame))
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        static let truncations: [BadBytes] = {
            let frame = Wire.say(callID: 1, "never finished")
            return [
                BadBytes(name: "2 of 4 header bytes", bytes: Array(frame.prefix(2))),
                BadBytes(name: "header only", bytes: Array(frame.prefix(4))),
                BadBytes(name: "all but the last byte", bytes: Array(frame.dropLast())),
                BadBytes(name: "a whole frame and half a header", bytes: Wire.say(callID: 1, "done") + [0x00, 0x00]),
            ]
        }()

        /// A truncated frame and then the client's FIN: the server drops the
        /// partial frame with the connection and closes, sending nothing
        /// for it (a complete frame before it is answered).
        @Test("a truncated frame followed by close: the server just closes", arguments: truncations)
        func truncatedThenClose(bytes: BadBytes) async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(bytes.bytes)
                try await connection.shutdownOutput()
                let snapshot = await connection.waitForClose()
                #expect(!snapshot.timedOut, "the server did not close after the client's FIN")
                #expect(snapshot.closed)
                #expect(!snapshot.receivedNonFrameBytes)
                #expect(snapshot.goAways.isEmpty, "no GoAway for a truncated frame: \(snapshot.frames.map(\.badInputDescription))")
                #expect(snapshot.frames.allSatisfy { $0.callID == 1 && $0.response.status.code == 0 })
                await expectServerHealthy(port: port)
            }
        }

        static let strangers: [BadBytes] = [
            BadBytes(name: "HTTP/1.1 GET", bytes: Wire.http),
            BadBytes(name: "HTTP/2 preface", bytes: Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)),
            BadBytes(name: "TLS ClientHello", bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]),
            BadBytes(name: "SSH banner", bytes: Array("SSH-2.0-OpenSSH_9.6\r\n".utf8)),
        ]

        @Test("a stranger speaking another protocol: GoAway 13 and close", arguments: strangers)
        func stranger(bytes: BadBytes) async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(bytes.bytes)
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        @Test("\"GET \" is read as length 0x47455420 and refused at once")
        func httpLength() async throws {
            #expect(Wire.http.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) } == 0x4745_5420)
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                // Only "GET ": nothing after the length may be needed.
                try await connection.send(Array(Wire.http.prefix(4)))
                expectProtocolError(await connection.waitForClose(timeout: .seconds(2)))
                await expectServerHealthy(port: port)
            }
        }

        /// The body of a `Say` request frame (call 1) of exactly `size` bytes,
        /// padded with metadata so that the answer stays small.
        static func requestBody(ofSize size: Int) -> [UInt8]? {
            for padding in 0...size {
                for text in ["x", "xy"] {
                    let frame = Wire.requestFrame(
                        callID: 1,
                        method: TestMethod.say,
                        payload: try! StringValue(text).serializedData(),
                        metadata: ["pad": String(repeating: "p", count: padding)]
                    )
                    let body = Wire.body(frame)
                    if body.count == size { return body }
                }
            }
            return nil
        }
    }
}
