import Foundation
import JWTKit

/// Issues and verifies the system's access tokens: JWTs signed with
/// HMAC-SHA256 under one shared secret.
///
/// The user service issues tokens at login; the gateway verifies them on
/// every request and forwards the token itself (`authorization` metadata),
/// which every service verifies again before believing it. All build their
/// authority from the same `SHOP_SIGNING_KEY`.
///
/// Verification accepts only what this authority could have issued: three
/// base64url parts, a header whose `alg` is `HS256` (so `none`, other HMAC
/// sizes and public-key algorithms are refused before any signature check),
/// a matching signature, a subject, a known role and an expiry in the future.
///
/// ```swift
/// let authority = try await TokenAuthority(signingKey: key)
/// let token = try await authority.issue(userID: id, role: .user, lifetime: 3600)
/// let claims = try await authority.verify(token)
/// ```
public struct TokenAuthority: Sendable {
    /// The only algorithm issued and accepted.
    public static let algorithm = "HS256"
    /// HS256 keys must be at least as long as the hash output (32 bytes);
    /// jwt-kit asserts on shorter keys in debug builds, so they are refused
    /// here with ``TokenError/keyTooShort(byteCount:minimum:)``.
    public static let minimumKeyByteCount = 32
    /// Tokens longer than this are refused unread. Ours are a few hundred bytes.
    public static let maximumTokenLength = 8 * 1024

    private let keys: JWTKeyCollection

    /// An authority signing with `signingKey`, whose UTF-8 bytes are the HMAC key.
    ///
    /// - Throws: ``TokenError/keyTooShort(byteCount:minimum:)`` when the key
    ///   has fewer than ``minimumKeyByteCount`` bytes.
    public init(signingKey: String) async throws(TokenError) {
        let byteCount = signingKey.utf8.count
        guard byteCount >= Self.minimumKeyByteCount else {
            throw .keyTooShort(byteCount: byteCount, minimum: Self.minimumKeyByteCount)
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: signingKey), digestAlgorithm: .sha256)
        self.keys = keys
    }

    /// Signs `claims` as they are.
    public func sign(_ claims: AccessTokenClaims) async throws(TokenError) -> String {
        do {
            return try await keys.sign(claims)
        } catch {
            throw .signingFailed
        }
    }

    /// Issues a token for `userID` with `role` and the account's
    /// `tokenVersion`, good for `lifetime` seconds from `now` (times are
    /// truncated to whole seconds).
    ///
    /// - Returns: the signed token and the claims it carries.
    public func issue(
        userID: String,
        role: AccessTokenClaims.Role,
        tokenVersion: Int64 = 0,
        lifetime: TimeInterval,
        now: Date = Date()
    ) async throws(TokenError) -> (token: String, claims: AccessTokenClaims) {
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = AccessTokenClaims(
            userID: userID,
            role: role,
            tokenVersion: tokenVersion,
            issuedAt: issuedAt,
            expiresAt: issuedAt.addingTimeInterval(lifetime.rounded(.down))
        )
        return (try await sign(claims), claims)
    }

    /// The claims of `token` if this authority issued it and it has not expired.
    ///
    /// - Throws: ``TokenError/malformed``, ``TokenError/unsupportedAlgorithm(_:)``,
    ///   ``TokenError/invalidSignature``, ``TokenError/expired`` or
    ///   ``TokenError/invalidClaims``.
    public func verify(_ token: String) async throws(TokenError) -> AccessTokenClaims {
        guard token.utf8.count <= Self.maximumTokenLength else { throw .malformed }
        let algorithm = try Self.headerAlgorithm(of: token)
        guard algorithm == Self.algorithm else { throw .unsupportedAlgorithm(algorithm) }
        do {
            return try await keys.verify(token, as: AccessTokenClaims.self)
        } catch let error as TokenError {
            throw error
        } catch let error as JWTError {
            switch error.errorType {
            case .signatureVerificationFailed: throw .invalidSignature
            case .claimVerificationFailure: throw .invalidClaims
            default: throw .malformed
            }
        } catch is DecodingError {
            throw .invalidClaims
        } catch {
            throw .malformed
        }
    }

    /// The `alg` of a token's header, read before anything else so that an
    /// algorithm we do not issue is refused without trying it.
    private static func headerAlgorithm(of token: String) throws(TokenError) -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { throw .malformed }
        guard let header = base64URLDecode(parts[0]),
              let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw .malformed
        }
        guard let algorithm = object["alg"] as? String else { throw .malformed }
        return algorithm
    }

    private static func base64URLDecode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = base64.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { base64 += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: base64)
    }
}
