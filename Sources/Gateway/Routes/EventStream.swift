import FrameRPC
import Foundation
import Hummingbird
import RESTTranscoding
import Synchronization

/// A server-streaming route served as Server-Sent Events (`text/event-stream`).
///
/// The call is started before the response is: until its first message
/// arrives, a failure is still an ordinary HTTP error (404 for an unknown
/// order, 403 for someone else's). After that the stream is
///
/// ```
/// event: order
/// data: {"id":"...","status":"confirmed",...}
///
/// : heartbeat
///
/// event: error
/// data: {"detail":"...","code":"UNAVAILABLE","request_id":"..."}
/// ```
///
/// one `event:` per message, named after the response message (`Order`
/// is `order`), a comment line every heartbeat interval (so proxies keep
/// the connection), and an `error` event if the call fails midway; the
/// response ends with the call. When the client
/// goes away, the call is cancelled (the upstream gets `Cancel`).
///
/// Every stream holds a place in ``StreamBudget`` (per user and in all)
/// from before its call starts until the call ends, so streams can never
/// take the upstream connection's call slots from other routes.
enum EventStream {
    enum Item: Sendable {
        case message(ByteBuffer)
        case heartbeat
    }

    /// Starts the call and answers once its first message (or its failure)
    /// is in.
    /// - Parameter streamOwner: whose stream it is in ``StreamBudget``
    ///   (the user id): 429 when the owner or the gateway has all the
    ///   streams it may.
    static func open(
        route: RESTRoute,
        streamOwner: String,
        call: @escaping @Sendable (RPCClient, CallOptions, _ send: @Sendable (ByteBuffer) async throws -> Void) async throws -> Void,
        request: Request,
        options: CallOptions,
        policy: Upstream.CallPolicy,
        upstream: Upstream,
        core: GatewayCore,
        context: GatewayRequestContext
    ) async throws -> Response {
        // Held for as long as the upstream call runs, which the stream's
        // task below owns; released at once if the call never starts.
        let lease = try core.streams.acquire(user: streamOwner)
        let admission: Upstream.Admission
        do {
            admission = try await upstream.admit()
        } catch {
            lease.release()
            throw error
        }
        context.record.update {
            $0.attempts = 1
            $0.endpoint = admission.endpoint.address.description
        }
        let (items, itemSink) = AsyncThrowingStream.makeStream(of: Item.self)
        let (started, startSink) = AsyncThrowingStream.makeStream(of: Void.self)
        let client = admission.endpoint.client
        let task = Task {
            defer { lease.release() }
            do {
                try await upstream.countingStream {
                    try await call(client, options) { message in
                        startSink.finish()
                        itemSink.yield(.message(message))
                    }
                }
                startSink.finish()
                itemSink.finish()
            } catch {
                startSink.finish(throwing: error)
                itemSink.finish(throwing: error)
            }
        }
        let guardian = CallGuardian(task)

        do {
            for try await _ in started {}
        } catch {
            upstream.finish(admission, error: error, policy: policy)
            context.record.update { $0.upstreamStatus = (error as? RPCError)?.code.name }
            throw error
        }
        upstream.finish(admission, error: nil, policy: policy)
        context.record.update { $0.upstreamStatus = "OK" }

        let eventName = Self.eventName(of: route.response)
        let heartbeat = core.heartbeatInterval
        let requestID = context.requestID
        let logger = core.logger
        let body = ResponseBody { writer in
            defer { guardian.cancel() }
            try await request.body.consumeWithCancellationOnInboundClose { _ in
                try await withTaskCancellationHandler {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            while true {
                                try await Task.sleep(for: heartbeat)
                                itemSink.yield(.heartbeat)
                            }
                        }
                        do {
                            for try await item in items {
                                switch item {
                                case .message(let json):
                                    try await writer.write(Self.event(eventName, data: json))
                                case .heartbeat:
                                    try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                                }
                            }
                        } catch let error where !(error is CancellationError) && !Task.isCancelled {
                            let failure = GatewayError(error)
                            logger.warning("event stream failed midway", metadata: [
                                "request_id": "\(requestID)", "route": "\(route.path)", "error": "\(failure.code)",
                            ])
                            try await writer.write(ByteBuffer(bytes: Self.event("error", data: failure.body(requestID: requestID))))
                        }
                        group.cancelAll()
                    }
                } onCancel: {
                    guardian.cancel()
                }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: HTTPResponse.Status(code: route.successStatus),
            headers: [
                .contentType: "text/event-stream",
                .cacheControl: "no-cache",
                HTTPFields.Element.Name("X-Accel-Buffering")!: "no",
            ],
            body: body
        )
    }

    /// `event: <name>\ndata: <json>\n\n`. The JSON is compact, so one line.
    static func event(_ name: String, data: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.readableBytes + name.utf8.count + 16)
        buffer.writeString("event: \(name)\ndata: ")
        buffer.writeImmutableBuffer(data)
        buffer.writeString("\n\n")
        return buffer
    }

    /// `event: <name>\ndata: <json>\n\n`. The JSON is compact, so one line.
    static func event(_ name: String, data: [UInt8]) -> [UInt8] {
        Array("event: \(name)\ndata: ".utf8) + data + Array("\n\n".utf8)
    }

    /// `order` for `shop.order.v1.Order`.
    static func eventName(of message: String) -> String {
        let last = message.split(separator: ".").last.map(String.init) ?? message
        return last.prefix(1).lowercased() + last.dropFirst()
    }
}

/// Cancels the streaming call when nothing holds the response any more,
/// so a response that is never written (the client left before the
/// headers) cannot leave its call running until the deadline.
final class CallGuardian: Sendable {
    private let task: Task<Void, Never>

    init(_ task: Task<Void, Never>) {
        self.task = task
    }

    func cancel() {
        task.cancel()
    }

    deinit {
        task.cancel()
    }
}
