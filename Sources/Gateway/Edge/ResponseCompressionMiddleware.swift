import CompressNIO
import Hummingbird

/// Compresses a response with gzip or deflate when the client asks for it
/// (`Accept-Encoding`) and the body is worth it: at least
/// ``CompressionPolicy/minimumResponseBytes``, of known length, not already
/// encoded, and never a Server-Sent Events stream (a stream must reach the
/// client as it is written, not when a compressor block fills). Responses
/// that could have been compressed say `Vary: Accept-Encoding`, so caches
/// keep the two forms apart.
struct ResponseCompressionMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let policy: CompressionPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        guard policy.compressResponses,
              let length = response.body.contentLength, length >= policy.minimumResponseBytes,
              response.headers[.contentEncoding] == nil,
              !(response.headers[.contentType] ?? "").hasPrefix("text/event-stream") else { return response }
        response.headers[.vary] = "Accept-Encoding"
        guard let coding = ContentCoding.preferred(byAcceptEncoding: request.headers[.acceptEncoding] ?? "") else {
            return response
        }
        let collector = BodyCollector(capacity: length)
        try await response.body.write(collector)
        var plain = collector.buffer
        let compressed = try plain.compress(with: coding.algorithm)
        response.headers[.contentEncoding] = coding.rawValue
        response.headers[.contentLength] = nil
        response.body = ResponseBody(byteBuffer: compressed)
        return response
    }
}

/// Gathers a response body that is already in memory (a known length), so
/// it can be compressed in one pass.
private final class BodyCollector: ResponseBodyWriter {
    var buffer: ByteBuffer

    init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        self.buffer.writeBuffer(&buffer)
    }

    func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for buffer in buffers { try await write(buffer) }
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
