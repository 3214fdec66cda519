import FrameRPC
@testable import Gateway
import Hummingbird
import RESTTranscoding
import Testing

@Suite("Error mapping")
struct ErrorMappingTests {
    static let table: [(RPCError.Code, Int)] = [
        (.invalidArgument, 422), (.notFound, 404), (.alreadyExists, 409), (.failedPrecondition, 409),
        (.aborted, 409), (.unauthenticated, 401), (.permissionDenied, 403), (.resourceExhausted, 429),
        (.unavailable, 503), (.deadlineExceeded, 504), (.internal, 500), (.unknown, 500),
        (.dataLoss, 500), (.unimplemented, 500), (.outOfRange, 500), (.cancelled, 500),
    ]

    @Test("each RPC code maps to the API's HTTP status and keeps its name", arguments: table)
    func mapping(_ code: RPCError.Code, _ status: Int) {
        let error = RPCStatusMapping.gatewayError(for: RPCError(code: code, message: "m"))
        #expect(Int(error.status.code) == status)
        #expect(error.code == (status == 500 ? "INTERNAL" : code.name))
    }

    @Test("a 500 says nothing of its cause")
    func internalHasNoDetail() {
        let error = GatewayError(RPCError(code: .dataLoss, message: "disk /var/lib/x.sqlite is corrupt"))
        #expect(error.detail == "internal error")
        let other = GatewayError(CocoaLikeError())
        #expect(other.status == .internalServerError)
        #expect(other.detail == "internal error")
    }

    @Test("caller mistakes keep the service's message, which names the field")
    func callerMessageKept() {
        let error = GatewayError(RPCError(code: .invalidArgument, message: "email: is not a valid address"))
        #expect(error.detail == "email: is not a valid address")
    }

    @Test("UNAVAILABLE is 503 with Retry-After and without the upstream's address")
    func unavailableHidesAddress() {
        let error = GatewayError(RPCError(code: .unavailable, message: "cannot connect to 10.0.0.7:7001: refused"))
        #expect(error.status == .serviceUnavailable)
        #expect(!error.detail.contains("10.0.0.7"))
        #expect(error.headers[HTTPFields.Element.Name("Retry-After")!] == "1")
    }

    @Test("Retry-After rounds up to whole seconds")
    func retryAfterRoundsUp() {
        let error = GatewayError.unavailable("x", retryAfter: .milliseconds(2_100))
        #expect(error.headers[HTTPFields.Element.Name("Retry-After")!] == "3")
    }

    @Test("transcoding errors are 400 for bad JSON and types, 422 for bad values")
    func transcoding() {
        #expect(GatewayError(TranscodingError(.malformed, "x")).status == .badRequest)
        #expect(GatewayError(TranscodingError(.wrongType, "price: must be a number")).status == .badRequest)
        let invalid = GatewayError(TranscodingError(.invalid, "price: must have at most two decimals"))
        #expect(invalid.status == .unprocessableContent)
        #expect(invalid.code == "INVALID_ARGUMENT")
        #expect(invalid.detail == "price: must have at most two decimals")
        #expect(GatewayError(TranscodingError(.internal, "no shape")).detail == "internal error")
    }

    @Test("the error body has detail, code and request_id")
    func body() throws {
        let body = GatewayError.notFound("order 7 \"x\" not found").body(requestID: "req-1")
        let json = try JSONParser.parse(body)
        #expect(json["detail"] == .string("order 7 \"x\" not found"))
        #expect(json["code"] == .string("NOT_FOUND"))
        #expect(json["request_id"] == .string("req-1"))
    }

    struct CocoaLikeError: Error {}
}
