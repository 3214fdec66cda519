import CompressNIO
import Hummingbird

/// Accepts request bodies sent with `Content-Encoding: gzip` or `deflate`,
/// inflating them before any route reads them, with the body limit applied
/// twice: to the bytes received and to the bytes they inflate to. A
/// decompression bomb (a kilobyte that inflates to gigabytes) is refused
/// with 413 as soon as the output passes the limit, so it costs at most the
/// limit's worth of memory and of inflating. Any other coding is 415;
/// a body that is not valid gzip or deflate is 400.
struct RequestDecompressionMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let bodyLimit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.contentEncoding] else { return try await next(request, context) }
        let name = header.lowercased().split(separator: ",").first.map { $0.trimmingCharacters(in: " \t") } ?? ""
        if name == "identity" || name.isEmpty { return try await next(request, context) }
        guard let coding = ContentCoding(rawValue: name), !header.contains(",") else {
            throw GatewayError(
                status: .unsupportedMediaType,
                code: "INVALID_ARGUMENT",
                detail: "Content-Encoding '\(header.prefix(40))' is not supported; send gzip, deflate or identity"
            )
        }
        var compressed = try await RequestInput.body(of: request, limit: bodyLimit)
        let inflated: ByteBuffer
        do {
            inflated = try compressed.decompress(with: coding.algorithm, maxSize: bodyLimit)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw GatewayError(
                status: .contentTooLarge,
                code: "INVALID_ARGUMENT",
                detail: "the request body inflates to more than \(bodyLimit) bytes"
            )
        } catch {
            throw GatewayError.badRequest("the request body is not valid \(coding.rawValue) data")
        }
        var head = request.head
        head.headerFields[.contentEncoding] = nil
        head.headerFields[.contentLength] = String(inflated.readableBytes)
        return try await next(Request(head: head, body: RequestBody(buffer: inflated)), context)
    }
}
