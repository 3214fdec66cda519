/// Why a token could not be issued or was not accepted.
///
/// Verification failures are deliberately coarse: a caller learns that its
/// token is not good (and, for ``expired``, that logging in again helps), never
/// which byte was wrong. The descriptions never contain key material.
public enum TokenError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HMAC signing key is shorter than ``TokenAuthority/minimumKeyByteCount``
    /// bytes. Raised instead of letting jwt-kit assert (and crash) on it.
    case keyTooShort(byteCount: Int, minimum: Int)
    /// Not three base64url parts, a header or payload that is not JSON, or
    /// a token far larger than any this system issues.
    case malformed
    /// The header names an algorithm other than HS256, `none` included.
    case unsupportedAlgorithm(String)
    /// The signature does not match the header and payload.
    case invalidSignature
    /// The signature is good but the expiry has passed.
    case expired
    /// The signature is good but the claims are missing or of the wrong shape
    /// (no subject, unknown role, no expiry).
    case invalidClaims
    /// Signing failed inside the JWT library.
    case signingFailed

    public var description: String {
        switch self {
        case .keyTooShort(let byteCount, let minimum):
            "the signing key is \(byteCount) bytes long; HS256 needs at least \(minimum)"
        case .malformed:
            "the token is malformed"
        case .unsupportedAlgorithm(let algorithm):
            "the token's algorithm '\(algorithm)' is not accepted (only HS256)"
        case .invalidSignature:
            "the token's signature is not valid"
        case .expired:
            "the token has expired"
        case .invalidClaims:
            "the token's claims are not valid"
        case .signingFailed:
            "the token could not be signed"
        }
    }
}
