import Foundation
import Logging
import NIOSSL
import Synchronization

/// The NIOSSL context for new connections of one server or client, rebuilt
/// when its PEM files change on disk.
///
/// ``context()`` is asked on every new connection: it compares each file's
/// modification time, size and inode with those of the last attempt (a few
/// `stat` calls) and rebuilds only when one changed. A rebuild that fails (a
/// half-written file, a key that does not match) is logged once per change
/// and the last good context stays in use; the next change is tried again.
/// Connections already open keep the context they started with.
final class TLSContextSource: Sendable {
    enum Role: Sendable {
        case server
        case client
    }

    private struct State {
        var context: NIOSSLContext?
        var stamps: [FileStamp?] = []
    }

    let configuration: RPCTLSConfiguration
    private let role: Role
    private let logger: Logger
    private let state = Mutex(State())

    init(configuration: RPCTLSConfiguration, role: Role, logger: Logger) {
        self.configuration = configuration
        self.role = role
        self.logger = logger
    }

    /// The context for a new connection.
    ///
    /// - Throws: ``TLSMaterialError`` only when no material was ever loaded
    ///   (the first load failed); later failures keep the old context.
    func context() throws -> NIOSSLContext {
        let stamps = currentStamps()
        let cached = state.withLock { state -> NIOSSLContext? in
            guard let context = state.context, state.stamps == stamps else { return nil }
            return context
        }
        if let cached { return cached }
        do {
            let context = try build()
            state.withLock { state in
                if state.context != nil { logger.info("TLS material changed on disk; new connections use it") }
                state.context = context
                state.stamps = stamps
            }
            return context
        } catch {
            let previous = state.withLock { state -> NIOSSLContext? in
                guard let context = state.context else { return nil }
                // Remember the broken version so it is reported once, not
                // on every connection until the files change again.
                if state.stamps != stamps {
                    logger.warning("TLS material changed on disk but cannot be used; keeping the previous certificate", metadata: ["error": "\(error)"])
                    state.stamps = stamps
                }
                return context
            }
            if let previous { return previous }
            throw error
        }
    }

    private func currentStamps() -> [FileStamp?] {
        [configuration.certificateChain, configuration.privateKey, configuration.trustRoots].map { source in
            if case .file(let path) = source { FileStamp(path: path) } else { nil }
        }
    }

    private func build() throws -> NIOSSLContext {
        let chain = try Self.certificates(configuration.certificateChain, what: "certificate chain")
        let roots = try Self.certificates(configuration.trustRoots, what: "trust roots")
        let keyBytes = try Self.bytes(configuration.privateKey, what: "private key")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw TLSMaterialError("the private key (\(configuration.privateKey.label)) is not a PEM private key")
        }
        var tls: TLSConfiguration
        switch role {
        case .server:
            tls = .makeServerConfigurationWithMTLS(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key),
                trustRoots: .certificates(roots)
            )
        case .client:
            tls = .makeClientConfiguration()
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(key)
            tls.trustRoots = .certificates(roots)
            // Identities are URI SANs, checked after the handshake
            // (ClientTLSHandshakeHandler); the chain is still verified.
            tls.certificateVerification = .noHostnameVerification
        }
        tls.minimumTLSVersion = .tlsv13
        tls.maximumTLSVersion = .tlsv13
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw TLSMaterialError("the certificate chain (\(configuration.certificateChain.label)) and private key (\(configuration.privateKey.label)) cannot be used together: \(error)")
        }
    }

    private static func certificates(_ source: RPCTLSConfiguration.Source, what: String) throws -> [NIOSSLCertificate] {
        let certificates = try? NIOSSLCertificate.fromPEMBytes(bytes(source, what: what))
        guard let certificates, !certificates.isEmpty else {
            throw TLSMaterialError("the \(what) (\(source.label)) holds no PEM certificate")
        }
        return certificates
    }

    private static func bytes(_ source: RPCTLSConfiguration.Source, what: String) throws -> [UInt8] {
        switch source {
        case .pem(let text):
            return Array(text.utf8)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TLSMaterialError("cannot read the \(what) file \(path)")
            }
            return Array(data)
        }
    }
}

/// TLS material that cannot be loaded, saying which and why.
public struct TLSMaterialError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension RPCTLSConfiguration.Source {
    /// The path, or `in-memory PEM`, for messages.
    var label: String {
        switch self {
        case .file(let path): path
        case .pem: "in-memory PEM"
        }
    }
}

/// What tells that a file changed: modification time, size and inode (a
/// Kubernetes Secret update swaps a symlink, which changes the inode).
struct FileStamp: Hashable, Sendable {
    let seconds: Int
    let nanoseconds: Int
    let size: Int64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        seconds = Int(info.st_mtimespec.tv_sec)
        nanoseconds = Int(info.st_mtimespec.tv_nsec)
        #else
        seconds = Int(info.st_mtim.tv_sec)
        nanoseconds = Int(info.st_mtim.tv_nsec)
        #endif
        size = Int64(info.st_size)
        inode = UInt64(info.st_ino)
    }
}
