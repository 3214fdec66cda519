import Foundation
import Logging
import NIOCore
import NIOSSL
import ServiceSupport
import Synchronization

/// The gateway's HTTPS certificate, re-read when its files change.
///
/// The TLS configuration it makes asks it for the certificate on every
/// client hello (NIOSSL's context callback): it compares the two files'
/// modification time, size and inode with those it last read (two `stat`
/// calls) and reads them again only when one changed. New connections get
/// the new certificate; open ones keep theirs. Files that cannot be used (a
/// half-written renewal, a key that does not match) are reported once and
/// the last good certificate stays in use.
final class EdgeCertificate: Sendable {
    private struct Material {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var stamps: [FileStamp?]
    }

    let tls: GatewayHTTPS
    private let logger: Logger
    private let material: Mutex<Material>

    /// - Throws: ``ConfigurationError`` when the files cannot be read or do
    ///   not hold a certificate chain and its key.
    init(_ tls: GatewayHTTPS, logger: Logger) throws {
        self.tls = tls
        self.logger = logger
        let stamps = Self.stamps(tls)
        let (chain, key) = try Self.read(tls)
        material = Mutex(Material(chain: chain, key: key, stamps: stamps))
    }

    /// The server configuration: TLS 1.2 or 1.3, this certificate, swapped
    /// per handshake when the files change.
    var configuration: TLSConfiguration {
        let current = self.current()
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: current.chain.map { .certificate($0) },
            privateKey: .privateKey(current.key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.sslContextCallback = { [self] _, promise in
            let now = self.current()
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = now.chain.map { .certificate($0) }
            override.privateKey = .privateKey(now.key)
            promise.succeed(override)
        }
        return configuration
    }

    /// The certificate for a new connection.
    func current() -> (chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) {
        let stamps = Self.stamps(tls)
        return material.withLock { material in
            if material.stamps != stamps {
                material.stamps = stamps
                do {
                    (material.chain, material.key) = try Self.read(tls)
                    logger.info("the gateway's TLS certificate changed on disk; new connections use it")
                } catch {
                    logger.warning("the gateway's TLS files changed but cannot be used; keeping the previous certificate", metadata: ["error": "\(error)"])
                }
            }
            return (material.chain, material.key)
        }
    }

    private static func stamps(_ tls: GatewayHTTPS) -> [FileStamp?] {
        [FileStamp(path: tls.certificateChainPath), FileStamp(path: tls.privateKeyPath)]
    }

    private static func read(_ tls: GatewayHTTPS) throws -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        guard let chainBytes = FileManager.default.contents(atPath: tls.certificateChainPath) else {
            throw ConfigurationError("cannot read the gateway's TLS certificate \(tls.certificateChainPath)")
        }
        guard let keyBytes = FileManager.default.contents(atPath: tls.privateKeyPath) else {
            throw ConfigurationError("cannot read the gateway's TLS key \(tls.privateKeyPath)")
        }
        guard let chain = try? NIOSSLCertificate.fromPEMBytes(Array(chainBytes)), !chain.isEmpty else {
            throw ConfigurationError("\(tls.certificateChainPath) holds no PEM certificate")
        }
        guard let key = try? NIOSSLPrivateKey(bytes: Array(keyBytes), format: .pem) else {
            throw ConfigurationError("\(tls.privateKeyPath) holds no PEM private key")
        }
        // A context is built once here so a key that does not match the
        // certificate is found now, not at the first handshake.
        var check = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        check.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: check)
        } catch {
            throw ConfigurationError("\(tls.certificateChainPath) and \(tls.privateKeyPath) cannot be used together: \(error)")
        }
        return (chain, key)
    }
}

/// What identifies a version of a file without reading it.
struct FileStamp: Equatable, Sendable {
    let modified: timespec
    let size: off_t
    let inode: ino_t

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        modified = info.st_mtim
        size = info.st_size
        inode = info.st_ino
    }

    static func == (a: FileStamp, b: FileStamp) -> Bool {
        a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec && a.size == b.size && a.inode == b.inode
    }
}
