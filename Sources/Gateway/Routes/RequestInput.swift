import Foundation
import Hummingbird

/// Reading what a request carries: its body (within the limit), its query
/// items and its path values, percent-decoded.
enum RequestInput {
    /// The whole body, refused with 413 as soon as it is known to pass
    /// `limit` bytes: from `Content-Length` before reading anything, or while
    /// reading a body sent in chunks.
    static func body(of request: Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap({ Int($0.trimmingSpaces) }), length > limit {
            throw GatewayError.payloadTooLarge(limit: limit)
        }
        var collected: ByteBuffer?
        do {
            for try await buffer in request.body {
                guard (collected?.readableBytes ?? 0) + buffer.readableBytes <= limit else { throw GatewayError.payloadTooLarge(limit: limit) }
                // A body in one buffer (the usual case) is kept as it came.
                if collected == nil {
                    collected = buffer
                } else {
                    collected!.writeImmutableBuffer(buffer)
                }
            }
        } catch let error as GatewayError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw GatewayError.badRequest("the request body could not be read")
        }
        return collected ?? ByteBuffer()
    }

    /// `a=1&b=x%20y&b=z` as `[(a, 1), (b, x y), (b, z)]`, in order; `+` is a
    /// space, as HTML forms and most clients write it.
    ///
    /// - Throws: 400 for an item that is not valid percent-encoding.
    static func queryItems(_ query: String?) throws(GatewayError) -> [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        var items: [(name: String, value: String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(pieces[0], plusIsSpace: true),
                  let value = decode(pieces.count > 1 ? pieces[1] : "", plusIsSpace: true) else {
                throw .badRequest("the query string is not valid percent-encoding")
            }
            items.append((name, value))
        }
        return items
    }

    /// A path segment, percent-decoded; `nil` if it is not valid encoding.
    static func decode(_ text: Substring, plusIsSpace: Bool = false) -> String? {
        let text = plusIsSpace ? text.replacingOccurrences(of: "+", with: " ") : String(text)
        guard text.contains("%") else { return text }
        return text.removingPercentEncoding
    }
}
