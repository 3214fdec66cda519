import Foundation
import SwiftProtobuf
import FrameRPC
import Testing

extension BadInput {
    /// PROTOCOL.md section 6, last paragraph: a protocol error on one
    /// connection never affects another, and the server never crashes or
    /// grows without bound on any input.
    @Suite("Abuse")
    struct Abuse {
        /// The kinds of abuse, in turn, one per connection.
        enum Kind: CaseIterable {
            case http, zeroLength, garbage, oversizedLength, responseFromClient, evenCallID, truncatedThenFIN, abruptClose

            var bytes: [UInt8] {
                switch self {
                case .http: Wire.http
                case .zeroLength: Wire.lengthHeader(0)
                case .garbage: Wire.prefixed([0xDE, 0xAD, 0xBE, 0xEF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
                case .oversizedLength: Wire.lengthHeader(0x7FFF_FFFF) + [0x12, 0x00]
                case .responseFromClient:
                    Wire.frame(.with {
                        $0.callID = 1
                        $0.response = .with { $0.status = .with { $0.code = 0 } }
                    })
                case .evenCallID: Wire.say(callID: 2, "even")
                case .truncatedThenFIN, .abruptClose: Array(Wire.say(callID: 1, "cut short").dropLast(3))
                }
            }

            /// Whether the server must answer with GoAway 13 and close.
            var isProtocolError: Bool {
                switch self {
                case .truncatedThenFIN, .abruptClose: false
                default: true
                }
            }
        }

        struct Tally: Sendable {
            var connections = 0
            var protocolErrorsAnswered = 0
            var closedAfterFIN = 0
            var failures: [String] = []
        }

        /// Opens `count` connections, `concurrency` at a time, and abuses each.
        static func abuse(port: Int, count: Int, concurrency: Int, offset: Int = 0) async -> Tally {
            let kinds = Kind.allCases
            var tally = Tally()
            var next = 0
            await withTaskGroup(of: Result<Kind, AbuseFailure>.self) { group in
                func addOne() {
                    let kind = kinds[(offset + next) % kinds.count]
                    next += 1
                    group.addTask { await abuseOne(port: port, kind: kind) }
                }
                for _ in 0..<min(concurrency, count) { addOne() }
                for await result in group {
                    tally.connections += 1
                    switch result {
                    case .success(let kind):
                        if kind.isProtocolError {
                            tally.protocolErrorsAnswered += 1
                        } else if kind == .truncatedThenFIN {
                            tally.closedAfterFIN += 1
                        }
                    case .failure(let failure):
                        if tally.failures.count < 10 { tally.failures.append(failure.description) }
                    }
                    if next < count { addOne() }
                }
            }
            return tally
        }

        struct AbuseFailure: Error, CustomStringConvertible {
            let description: String
        }

        static func abuseOne(port: Int, kind: Kind) async -> Result<Kind, AbuseFailure> {
            let connection: RawConnection
            do {
                connection = try await RawConnection.connect(port: port)
            } catch {
                return .failure(AbuseFailure(description: "\(kind): connect failed: \(error)"))
            }
            defer { connection.close() }
            // The server may close before all bytes are written.
            try? await connection.send(kind.bytes)
            switch kind {
            case .abruptClose:
                return .success(kind)
            case .truncatedThenFIN:
                try? await connection.shutdownOutput()
                let snapshot = await connection.waitForClose(timeout: .seconds(5))
                guard snapshot.closed, snapshot.frames.isEmpty else {
                    return .failure(AbuseFailure(description: "\(kind): closed \(snapshot.closed), frames \(snapshot.frames.map(\.badInputDescription))"))
                }
                return .success(kind)
            default:
                let snapshot = await connection.waitForClose(timeout: .seconds(5))
                guard snapshot.closed,
                      snapshot.frames.count == 1,
                      let goAway = snapshot.goAways.first,
                      goAway.code == 13
                else {
                    return .failure(AbuseFailure(description: "\(kind): closed \(snapshot.closed), timed out \(snapshot.timedOut), frames \(snapshot.frames.map(\.badInputDescription)), errors \(snapshot.errors)"))
                }
                return .success(kind)
            }
        }

        @Test("thousands of abusive connections: every one refused properly, no unbounded growth, good clients still served")
        func manyAbusiveConnections() async throws {
            try await withServer { _, port in
                // A good client keeps its connection open throughout: abuse
                // elsewhere must not affect it.
                let client = RPCClient(host: "127.0.0.1", port: port)
                defer { client.shutdown() }
                let before = try await client.unary(method: TestMethod.say, request: StringValue("before"), response: StringValue.self)
                #expect(before.value == "echo: before")

                // Warm-up: let allocators, event loops and caches settle.
                let warmUp = await Self.abuse(port: port, count: 400, concurrency: 100)
                #expect(warmUp.failures.isEmpty, "\(warmUp.failures)")
                let baseline = residentMemoryBytes()

                let total = 2_000
                let tally = await Self.abuse(port: port, count: total, concurrency: 100, offset: 1)
                #expect(tally.connections == total)
                #expect(tally.failures.isEmpty, "\(tally.failures)")
                let expectedProtocolErrors = (0..<total).count { Kind.allCases[(1 + $0) % Kind.allCases.count].isProtocolError }
                #expect(tally.protocolErrorsAnswered == expectedProtocolErrors)

                let after = try await client.unary(method: TestMethod.say, request: StringValue("after"), response: StringValue.self)
                #expect(after.value == "echo: after")
                await expectServerHealthy(port: port)

                if let baseline, let end = residentMemoryBytes() {
                    let growth = end - baseline
                    print("BadInput: resident memory \(baseline / 1024) KiB -> \(end / 1024) KiB after \(total) abusive connections")
                    #expect(
                        growth < 64 * 1024 * 1024,
                        "resident memory grew by \(growth / 1024) KiB over \(total) abusive connections"
                    )
                }
            }
        }

        /// A client that writes requests and never reads the answers: the
        /// server must stop reading (TCP flow control then stops the client)
        /// rather than queue answer after answer in memory. 64 echo calls of
        /// 1 MiB each would make 64 MiB of answers.
        @Test("a client that never reads its answers cannot make the server buffer them without bound")
        func clientThatNeverReads() async throws {
            try await withServer { _, port in
                let payload = try Google_Protobuf_BytesValue(Data(repeating: 0x78, count: 1 << 20)).serializedData()
                func request(_ callID: UInt64) -> [UInt8] {
                    Wire.request(callID: callID, method: TestMethod.echoBytes, payload: payload)
                }
                // Warm-up: the same call once, on a connection that reads.
                let reader = try await RawConnection.connect(port: port)
                try await reader.send(request(1))
                expectStatus(await reader.waitForResponses([1]), callID: 1, code: 0)
                reader.close()
                let baseline = try #require(residentMemoryBytes(), "needs /proc/self/statm")

                let connection = try await RawConnection.connect(port: port, autoRead: false)
                defer { connection.close() }
                let bound = 32 * 1024 * 1024
                let calls = 64
                let start = ContinuousClock.now
                var accepted = 0
                for index in 0..<calls {
                    guard await connection.send(request(UInt64(2 * index + 1)), within: .seconds(1)) else { break }
                    accepted += 1
                }
                let sent = ContinuousClock.now
                // Let the server work through what it accepted; stop as soon
                // as the bound is broken.
                var growth = 0
                let end = ContinuousClock.now + .seconds(2)
                repeat {
                    growth = (residentMemoryBytes() ?? baseline) - baseline
                    if growth >= bound { break }
                    try await Task.sleep(for: .milliseconds(20))
                } while ContinuousClock.now < end
                print("BadInput: non-reading client: \(accepted)/\(calls) requests accepted in \(sent - start), growth \(growth / 1024) KiB after \(ContinuousClock.now - sent)")
                #expect(
                    growth < bound,
                    "resident memory grew by \(growth / 1024 / 1024) MiB while a client that never reads sent \(accepted) of \(calls) requests of 1 MiB (the server kept reading instead of applying backpressure)"
                )
                connection.close()
                await expectServerHealthy(port: port)
            }
        }

        @Test("a protocol error on one connection leaves calls in flight on another connection untouched")
        func otherConnectionsUnaffected() async throws {
            let service = TestService()
            try await withServer(service: service) { _, port in
                let good = try await RawConnection.connect(port: port)
                defer { good.close() }
                try await good.send(Wire.call(TestMethod.block, callID: 1, "patient"))
                #expect(await service.gate.waitForArrivals(1))

                for kind in Kind.allCases where kind.isProtocolError {
                    let bad = try await RawConnection.connect(port: port)
                    defer { bad.close() }
                    try? await bad.send(kind.bytes)
                    expectProtocolError(await bad.waitForClose())
                }

                let meanwhile = await good.current()
                #expect(!meanwhile.closed)
                #expect(meanwhile.frames.isEmpty)
                service.gate.open()
                expectReply(await good.waitForResponses([1]), callID: 1, "released: patient")
                await expectServerHealthy(port: port)
            }
        }
    }
}
