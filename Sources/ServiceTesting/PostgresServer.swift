import Foundation
import ServiceSupport
import Supervisor
import Synchronization

/// A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries,
/// a cluster made by `initdb` in a temporary folder, listening on
/// 127.0.0.1 on a free port (and on a Unix socket in that folder), with a
/// random password for TCP logins (SCRAM) and trust on the socket, which
/// only this fixture uses to create databases.
///
/// Run as the `postgres` account when the tests run as root (PostgreSQL
/// refuses to run as root), as the current user otherwise. A watchdog shell
/// stops the server (fast shutdown) and removes its folder when ``stop()``
/// is called or when the test process is gone, even after `kill -9`.
///
/// ``shared()`` is one server per test process; each test takes a fresh
/// database from it (``createDatabase(_:)``). A test that stops the
/// database on purpose starts its own (``start(port:)``).
public final class PostgresServer: Sendable {
    /// 127.0.0.1's port.
    public let port: Int
    /// The cluster's folder (data, socket, password file).
    public let folder: String
    /// The `postgres` account's password for TCP logins (a test checks it
    /// is never printed).
    public let password: String
    private let child: ChildProcess
    private let binaries: String

    private init(port: Int, folder: String, password: String, child: ChildProcess, binaries: String) {
        self.port = port
        self.folder = folder
        self.password = password
        self.child = child
        self.binaries = binaries
    }

    /// Whether Debian's `postgresql` binaries are installed (or
    /// `SHOP_TEST_POSTGRES_BIN` names them): for suites that start servers
    /// of their own to say why they are skipped.
    public static var isInstalled: Bool { (try? binaryFolder()) != nil }

    /// The server every test of this process shares, started on first use.
    public static func shared() async throws -> PostgresServer {
        try await SharedServer.instance.server()
    }

    /// `postgres://postgres:PASSWORD@127.0.0.1:PORT/<database>`.
    public func url(database: String) -> String {
        "postgres://postgres:\(password)@127.0.0.1:\(port)/\(database)"
    }

    /// Creates a new empty database and returns its URL; a name is made up
    /// when none is given. Creating one that exists is not an error (the
    /// same name gives the same database, so a service restarted on the
    /// same data folder finds its data again).
    public func createDatabase(_ name: String? = nil) async throws -> String {
        let name = name ?? "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let created = try await Self.run(
            "\(binaries)/createdb", ["-h", folder, "-p", String(port), "-U", "postgres", name], asPostgres: true
        )
        guard created.status == .exited(0) || created.output.contains("already exists") else {
            throw ConfigurationError("createdb \(name) failed: \(created.output)")
        }
        return url(database: name)
    }

    /// Runs one SQL statement with `psql` on the maintenance database, for
    /// tests that inspect or break things behind a service's back.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let result = try await Self.run(
            "\(binaries)/psql",
            ["-h", folder, "-p", String(port), "-U", "postgres", "-d", database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            asPostgres: true
        )
        guard result.status == .exited(0) else { throw ConfigurationError("psql failed: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Fast shutdown (open sessions are ended), then the folder is removed,
    /// unless `keepingData`: then ``restart()`` starts the same cluster
    /// again (a database lost for a while and back).
    public func stop(keepingData: Bool = false) async {
        if keepingData {
            FileManager.default.createFile(atPath: "\(folder)/keep", contents: nil)
        }
        child.send(SIGINT)
        _ = await child.termination()
    }

    /// The cluster stopped with `stop(keepingData: true)`, started again on
    /// its port with its data and password.
    public func restart() async throws -> PostgresServer {
        try? FileManager.default.removeItem(atPath: "\(folder)/keep")
        return try await Self.launch(binaries: binaries, folder: folder, password: password, port: port)
    }

    /// Starts a new cluster. `port` 0 takes a free one; a fixed port lets a
    /// test stop the server and start another where clients expect it.
    public static func start(port requested: Int = 0) async throws -> PostgresServer {
        let binaries = try binaryFolder()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shop-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let account = runsAsRoot ? getpwnam("postgres") : nil
        if runsAsRoot, account == nil {
            throw ConfigurationError("tests run as root but there is no postgres account (apt-get install postgresql)")
        }
        if let account {
            chown(folder, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        let password = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let passwordFile = "\(folder)/password"
        try password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        if let account {
            chown(passwordFile, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        let data = "\(folder)/data"
        let initialized = try await run("\(binaries)/initdb", [
            "-D", data, "-U", "postgres", "--pwfile", passwordFile,
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
        ], asPostgres: true)
        guard initialized.status == .exited(0) else {
            try? FileManager.default.removeItem(atPath: folder)
            throw ConfigurationError("initdb failed: \(initialized.output.suffix(500))")
        }
        let port = requested == 0 ? try restartablePort() : requested
        return try await launch(binaries: binaries, folder: folder, password: password, port: port)
    }

    /// Runs the server of the cluster in `folder` under its watchdog and
    /// waits until it accepts connections.
    private static func launch(binaries: String, folder: String, password: String, port: Int) async throws -> PostgresServer {
        let data = "\(folder)/data"
        // Test settings: no fsync (a crash of the test machine loses nothing
        // that matters), room for many pools.
        let server = (asPostgresPrefix + ["\(binaries)/postgres", "-D", data, "-p", String(port), "-k", folder,
                                           "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                                           "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                           "-c", "max_connections=400"])
            .map(shellQuoted).joined(separator: " ")
        // The watchdog: the server stops when asked (SIGINT/SIGTERM to the
        // group) or when this process is gone; the folder goes with it.
        let script = """
            \(server) & pg=$!
            finish() { kill -INT $pg 2>/dev/null; wait $pg; [ -e \(shellQuoted(folder))/keep ] || rm -rf \(shellQuoted(folder)); exit 0; }
            trap finish INT TERM
            while kill -0 \(getpid()) 2>/dev/null && kill -0 $pg 2>/dev/null; do sleep 1; done
            finish
            """
        let output = LineLog()
        let child = try ChildProcess.spawn(
            executable: "/bin/sh", arguments: ["-c", script], environment: ["PATH": "/usr/bin:/bin"]
        ) { output.append($0) }
        let started = PostgresServer(port: port, folder: folder, password: password, child: child, binaries: binaries)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if output.contains("ready to accept connections") { return started }
            if child.hasExited { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await started.stop()
        throw ConfigurationError("PostgreSQL did not start on port \(port): \(output.lines.suffix(5).joined(separator: " / "))")
    }

    // MARK: Helpers

    private static var runsAsRoot: Bool { getuid() == 0 }

    /// `setpriv` (it execs, so signals reach the server itself) to the
    /// postgres account when running as root.
    private static var asPostgresPrefix: [String] {
        runsAsRoot ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"] : []
    }

    /// `SHOP_TEST_POSTGRES_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
    private static func binaryFolder() throws -> String {
        if let folder = ProcessInfo.processInfo.environment["SHOP_TEST_POSTGRES_BIN"], !folder.isEmpty { return folder }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        guard let newest = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/postgres") else {
            throw ConfigurationError("PostgreSQL is not installed (apt-get install postgresql, or set SHOP_TEST_POSTGRES_BIN)")
        }
        return "\(root)/\(newest)/bin"
    }

    private static func run(_ executable: String, _ arguments: [String], asPostgres: Bool) async throws -> (status: ChildProcess.Termination, output: String) {
        let prefix = asPostgres ? asPostgresPrefix : []
        let output = LineLog()
        let command = prefix + [executable] + arguments
        let child = try ChildProcess.spawn(
            executable: command[0], arguments: Array(command.dropFirst()), environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"]
        ) { output.append($0) }
        let status = await child.termination()
        // The output thread may still hold the last line for a moment.
        try? await Task.sleep(for: .milliseconds(20))
        return (status, output.lines.joined(separator: "\n"))
    }

    private static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// The per-process server behind ``PostgresServer/shared()``.
private actor SharedServer {
    static let instance = SharedServer()
    private var starting: Task<PostgresServer, any Error>?

    func server() async throws -> PostgresServer {
        if let starting { return try await starting.value }
        let task = Task { try await PostgresServer.start() }
        starting = task
        return try await task.value
    }
}

/// Lines a child wrote, for waiting on one and for error messages.
private final class LineLog: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ line: String) { state.withLock { $0.append(line) } }
    var lines: [String] { state.withLock { $0 } }
    func contains(_ text: String) -> Bool { state.withLock { $0.contains { $0.contains(text) } } }
}
