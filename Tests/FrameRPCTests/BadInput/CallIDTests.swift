import Foundation
import FrameRPC
import Testing

extension BadInput {
    /// PROTOCOL.md section 6, row 3 (and section 3): call ids are odd and
    /// strictly increasing; anything else ends the connection.
    @Suite("Call ids")
    struct CallIDs {
        @Test("a call id that was already used (call completed): GoAway 13 and close")
        func duplicateOfCompletedCall() async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.say(callID: 1, "one"))
                expectReply(await connection.waitForResponses([1]), callID: 1, "echo: one")
                try await connection.send(Wire.say(callID: 1, "one again"))
                let snapshot = await connection.waitForClose()
                expectProtocolError(snapshot, precedingFrames: 1)
                #expect(snapshot.goAways.first?.lastCallID == 1)
                await expectServerHealthy(port: port)
            }
        }

        @Test("a call id that is in flight: GoAway 13 and close")
        func duplicateOfCallInFlight() async throws {
            let service = TestService()
            try await withServer(service: service) { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.call(TestMethod.block, callID: 1, "held"))
                #expect(await service.gate.waitForArrivals(1))
                try await connection.send(Wire.say(callID: 1, "same id"))
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        @Test("a duplicate call id within one write: GoAway 13 and close")
        func duplicateInOneWrite() async throws {
            let service = TestService()
            try await withServer(service: service) { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.call(TestMethod.block, callID: 1, "a") + Wire.call(TestMethod.block, callID: 1, "b"))
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        @Test("a decreasing call id: GoAway 13 and close")
        func decreasing() async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.say(callID: 5, "five"))
                expectReply(await connection.waitForResponses([5]), callID: 5, "echo: five")
                try await connection.send(Wire.say(callID: 3, "three"))
                let snapshot = await connection.waitForClose()
                expectProtocolError(snapshot, precedingFrames: 1)
                #expect(!snapshot.hasResponse(for: 3))
                await expectServerHealthy(port: port)
            }
        }

        @Test("an even call id: GoAway 13 and close", arguments: [UInt64(2), 0, 4, 1 << 40])
        func even(callID: UInt64) async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.say(callID: callID, "even"))
                expectProtocolError(await connection.waitForClose())
                await expectServerHealthy(port: port)
            }
        }

        @Test("an even call id after valid calls: GoAway 13 and close")
        func evenAfterValid() async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.say(callID: 1, "a") + Wire.say(callID: 3, "b"))
                let answered = await connection.waitForResponses([1, 3])
                expectReply(answered, callID: 1, "echo: a")
                expectReply(answered, callID: 3, "echo: b")
                try await connection.send(Wire.say(callID: 6, "c"))
                expectProtocolError(await connection.waitForClose(), precedingFrames: 2)
                await expectServerHealthy(port: port)
            }
        }

        @Test("increasing odd call ids with gaps are fine")
        func gapsAreFine() async throws {
            try await withServer { _, port in
                let connection = try await RawConnection.connect(port: port)
                defer { connection.close() }
                try await connection.send(Wire.say(callID: 7, "a") + Wire.say(callID: 101, "b") + Wire.say(callID: .max, "c"))
                let snapshot = await connection.waitForResponses([7, 101, .max])
                expectReply(snapshot, callID: 7, "echo: a")
                expectReply(snapshot, callID: 101, "echo: b")
                expectReply(snapshot, callID: .max, "echo: c")
                #expect(!snapshot.closed)
            }
        }
    }
}
