import Foundation
import ServiceSupport
import ServiceTesting
import Supervisor

/// A PostgreSQL server of the test's own: `initdb` in a temporary folder,
/// listening on a free loopback port (and a socket in that folder), with a
/// random password, stopped and deleted by ``stop()``.
///
/// Debian's `postgresql` package provides the binaries (`.ci/run` installs
/// it). `initdb` refuses to run as root, so as root every command runs as
/// the `postgres` user (`runuser`). A stand-in for pg's fixture in
/// ServiceTesting until that branch is merged.
final class ThrowawayPostgres: Sendable {
    let folder: TemporaryDirectory
    let port: Int
    let password: String

    /// `postgres://shop:PASSWORD@127.0.0.1:PORT/shop`.
    var url: String { "postgres://shop:\(password)@127.0.0.1:\(port)/shop" }

    private init(folder: TemporaryDirectory, port: Int, password: String) {
        self.folder = folder
        self.port = port
        self.password = password
    }

    /// The newest installed server's `bin` folder, or `nil` when none is.
    static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.reversed().map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }()

    static func start() async throws -> ThrowawayPostgres {
        guard let binaries else { throw ConfigurationError("no PostgreSQL server installed (apt-get install postgresql)") }
        let folder = try TemporaryDirectory()
        let password = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try Data("\(password)\n".utf8).write(to: URL(fileURLWithPath: "\(folder.path)/pw"))
        if getuid() == 0, let account = getpwnam("postgres") {
            chown(folder.path, account.pointee.pw_uid, account.pointee.pw_gid)
            chown("\(folder.path)/pw", account.pointee.pw_uid, account.pointee.pw_gid)
        }
        let port = try freePort()
        let server = ThrowawayPostgres(folder: folder, port: port, password: password)
        do {
            try await server.run("\(binaries)/initdb", ["-D", "\(folder.path)/data", "-U", "shop", "--pwfile=\(folder.path)/pw", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"])
            // Ten service processes, each with a pool: more than the default 100.
            try await server.run("\(binaries)/pg_ctl", ["-D", "\(folder.path)/data", "-l", "\(folder.path)/log", "-w", "-o",
                                                        "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off", "start"])
            try await server.run("\(binaries)/createdb", ["-h", folder.path, "-p", String(port), "-U", "shop", "shop"])
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    /// Stops the server (fast: open connections are cut) and deletes its folder.
    func stop() async {
        if let binaries = Self.binaries, FileManager.default.fileExists(atPath: "\(folder.path)/data/postmaster.pid") {
            try? await run("\(binaries)/pg_ctl", ["-D", "\(folder.path)/data", "-m", "fast", "-w", "stop"])
        }
        folder.remove()
    }

    /// Runs one PostgreSQL command to its end (as `postgres` when we are
    /// root); throws with its output if it fails.
    private func run(_ command: String, _ arguments: [String]) async throws {
        let asRoot = getuid() == 0
        let output = ProcessOutput()
        let child = try ChildProcess.spawn(
            executable: asRoot ? "/usr/sbin/runuser" : command,
            arguments: asRoot ? ["-u", "postgres", "--", command] + arguments : arguments,
            environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"],
            onLine: output.append
        )
        let termination = await child.termination()
        guard termination == .exited(0) else {
            throw ConfigurationError("\(command) \(arguments.joined(separator: " ")) ended with \(termination): \(output.lines.suffix(10).joined(separator: "\n"))")
        }
    }

    private static func freePort() throws -> Int {
        for candidate in stride(from: 40_000 + Int(getpid() % 1_000) * 7, to: 48_000, by: 1) where PortProbe.problem(host: "127.0.0.1", port: candidate) == nil {
            return candidate
        }
        throw ConfigurationError("no free port for PostgreSQL")
    }
}
