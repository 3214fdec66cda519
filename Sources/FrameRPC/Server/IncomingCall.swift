import Foundation
import Logging
import NIOCore

/// A call accepted by a connection, to be run in its own task.
struct IncomingCall: Sendable {
    let context: ServerContext
    /// The request message: a slice of the frame it came in.
    let payload: ByteBuffer
    let method: MethodHandler
    let connection: ServerConnectionHandle

    /// Runs the handler inside the interceptors and sends its `Response`.
    /// Inlined (with ``invoke(_:)``) into the call's task, so the call path
    /// has fewer async frames, each of which costs an executor check when
    /// it resumes.
    @inline(__always)
    func run(interceptors: [any ServerInterceptor], logger: Logger) async {
        let callID = context.callID
        let frame: ByteBuffer
        do {
            let outcome: ServerOutcome
            if interceptors.isEmpty {
                outcome = try await invoke(context)
            } else {
                outcome = try await interceptors.intercept(context: context, terminal: invoke)
            }
            let response = ServerConnectionHandler.responseFrame(callID: callID, outcome: outcome)
            if response.readableBytes - 4 > connection.maximumFrameSize {
                frame = ServerConnectionHandler.responseFrame(
                    callID: callID,
                    error: RPCError(code: .resourceExhausted, message: "response of \(outcome.payload.count) bytes exceeds the frame size limit"),
                    allocator: connection.allocator
                )
            } else {
                frame = response
            }
        } catch {
            let status = RPCError.answering(error)
            if !(error is any RPCErrorConvertible), !(error is CancellationError) {
                logger.error("handler failed", metadata: [
                    "method": "\(context.method)", "error": "\(String(reflecting: error))",
                ])
            }
            frame = ServerConnectionHandler.responseFrame(callID: callID, error: status, allocator: connection.allocator)
        }
        connection.complete(callID: callID, frame: frame)
    }

    @inline(__always)
    private func invoke(_ context: ServerContext) async throws -> ServerOutcome {
        try await ServerContext.$current.withValue(context) {
            switch method {
            case .unary(let handler):
                return ServerOutcome(payload: try await handler(payload, context))
            case .serverStreaming(let handler):
                try await handler(payload, StreamSink(connection: connection, callID: context.callID), context)
                return ServerOutcome()
            }
        }
    }
}
