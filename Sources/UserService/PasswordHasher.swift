import Crypto
import CryptoExtras
import Foundation

/// Salted PBKDF2-HMAC-SHA256 password hashes, stored self-describing as
/// `pbkdf2-sha256$<rounds>$<salt base64>$<hash base64>` so that the rounds
/// can be raised later without losing old hashes (see ``needsRehash(_:)``).
///
/// The methods block the calling thread for as long as the derivation takes
/// (hundreds of milliseconds at 600,000 rounds): call them through a
/// ``BlockingWorkPool``, never on an event loop or a cooperative thread.
struct PasswordHasher: Sendable {
    /// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256, and the least the
    /// service accepts in production.
    static let productionRounds = 600_000
    static let algorithm = "pbkdf2-sha256"
    static let saltByteCount = 16
    static let hashByteCount = 32
    /// Stored hashes claiming more rounds than this are treated as corrupt
    /// rather than run for minutes.
    static let maximumRounds = 10_000_000

    /// Rounds for new hashes.
    let rounds: Int

    init(rounds: Int) {
        precondition(rounds >= 1 && rounds <= Self.maximumRounds)
        self.rounds = rounds
    }

    /// A new hash of `password` under a fresh random salt.
    func hash(_ password: String) throws -> String {
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let derived = try Self.derive(password, salt: salt, rounds: rounds)
        let hash = derived.withUnsafeBytes { Data($0) }
        return "\(Self.algorithm)$\(rounds)$\(salt.base64EncodedString())$\(hash.base64EncodedString())"
    }

    /// Whether `password` matches `stored`, compared in constant time.
    /// A stored value that is not a hash of ours never matches.
    func verify(_ password: String, against stored: String) -> Bool {
        guard let parsed = Stored(stored),
              let derived = try? Self.derive(password, salt: parsed.salt, rounds: parsed.rounds) else {
            return false
        }
        // `SymmetricKey`'s `==` is a constant-time comparison.
        return derived == SymmetricKey(data: parsed.hash)
    }

    /// Whether `stored` was made with fewer rounds than new hashes get (or
    /// is not readable), so a successful login should store a fresh hash.
    func needsRehash(_ stored: String) -> Bool {
        guard let parsed = Stored(stored) else { return true }
        return parsed.rounds < rounds
    }

    private static func derive(_ password: String, salt: Data, rounds: Int) throws -> SymmetricKey {
        if rounds >= 210_000 {
            return try KDF.Insecure.PBKDF2.deriveKey(
                from: Data(password.utf8), salt: salt, using: .sha256, outputByteCount: hashByteCount, rounds: rounds
            )
        }
        // Only reachable with the test-only setting that allows weak rounds
        // (see `UserServiceSettings`); swift-crypto refuses fewer than
        // 210,000 rounds through the checked entry point.
        return try KDF.Insecure.PBKDF2.deriveKey(
            from: Data(password.utf8), salt: salt, using: .sha256, outputByteCount: hashByteCount, unsafeUncheckedRounds: rounds
        )
    }

    /// A stored hash, parsed.
    private struct Stored {
        let rounds: Int
        let salt: Data
        let hash: Data

        init?(_ text: String) {
            let parts = text.split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == PasswordHasher.algorithm,
                  let rounds = Int(parts[1]), (1...PasswordHasher.maximumRounds).contains(rounds),
                  let salt = Data(base64Encoded: String(parts[2])), !salt.isEmpty,
                  let hash = Data(base64Encoded: String(parts[3])), hash.count == PasswordHasher.hashByteCount else {
                return nil
            }
            self.rounds = rounds
            self.salt = salt
            self.hash = hash
        }
    }
}
