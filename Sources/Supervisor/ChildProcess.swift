#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One running child process, started with `posix_spawn` in a process group
/// of its own.
///
/// Its own group matters: Ctrl-C in a terminal sends SIGINT to the whole
/// foreground group, and the supervisor, not the terminal, decides the
/// order in which children stop (gateway first). Its standard output and
/// error are read line by line on a thread of their own and handed to
/// `onLine`, so the supervisor can prefix them with the child's name.
public final class ChildProcess: Sendable {
    /// The child's process id (also its process group id).
    public let pid: pid_t
    private let exit: ExitStatusBox

    /// How a child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exit code \(code)"
            case .signalled(let signal): "signal \(signal)\(signal == SIGKILL ? " (SIGKILL)" : signal == SIGTERM ? " (SIGTERM)" : "")"
            }
        }
    }

    private init(pid: pid_t, exit: ExitStatusBox) {
        self.pid = pid
        self.exit = exit
    }

    /// Starts `executable` with `arguments` and `environment`.
    ///
    /// - Parameter onLine: every line the child writes to its standard
    ///   output or error, without the newline, called on a reader thread.
    /// - Throws: ``SupervisorError`` when the process cannot be spawned.
    public static func spawn(
        executable: String,
        arguments: [String],
        environment: [String: String],
        onLine: @escaping @Sendable (String) -> Void
    ) throws -> ChildProcess {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            throw SupervisorError("cannot create a pipe for \(executable): \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, writeEnd)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own, and default signal handling whatever ours is.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        // Both arrays end with nil, so neither buffer is empty.
        let result = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                posix_spawn(&pid, executable, &actions, &attributes, argvBuffer.baseAddress!, envpBuffer.baseAddress!)
            }
        }
        close(writeEnd)
        guard result == 0 else {
            close(readEnd)
            throw SupervisorError("cannot start \(executable): \(String(cString: strerror(result)))")
        }

        let exit = ExitStatusBox()
        let childPID = pid
        let relay = Thread {
            relayLines(from: readEnd, to: onLine)
            close(readEnd)
        }
        relay.name = "child-output-\(childPID)"
        relay.start()
        let reaper = Thread {
            exit.resolve(waitForExit(childPID))
        }
        reaper.name = "child-wait-\(childPID)"
        reaper.start()
        return ChildProcess(pid: childPID, exit: exit)
    }

    /// Sends `signal` to the child's process group.
    public func send(_ signal: Int32) {
        guard !exit.isResolved else { return }
        _ = kill(-pid, signal)
    }

    /// Waits until the child has ended.
    public func termination() async -> Termination {
        await exit.value()
    }

    /// Whether the child has ended.
    public var hasExited: Bool { exit.isResolved }

    /// Blocks the calling thread until the child has ended: for code that
    /// cannot await (a `defer` in a test). Never call it on an event loop.
    public func waitUntilExit() -> Termination {
        exit.wait()
    }

    /// Asks the child to stop with SIGTERM; after `grace`, kills it.
    @discardableResult
    public func stop(grace: Duration) async -> Termination {
        send(SIGTERM)
        let exit = self.exit
        let killer = Task {
            try await Task.sleep(for: grace)
            if !exit.isResolved { _ = kill(-pid, SIGKILL) }
        }
        let termination = await termination()
        killer.cancel()
        return termination
    }
}

/// Reads `fd` until end of file, calling `onLine` for every complete line
/// (and for a last one without a newline).
private func relayLines(from fd: Int32, to onLine: @Sendable (String) -> Void) {
    var pending: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { break }
        pending.append(contentsOf: buffer[0..<count])
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            onLine(String(decoding: pending[..<newline], as: UTF8.self))
            pending.removeSubrange(...newline)
        }
        // A child that writes a huge line without a newline cannot make us
        // hold it all: pass it on in pieces.
        if pending.count > 64 * 1024 {
            onLine(String(decoding: pending, as: UTF8.self))
            pending.removeAll(keepingCapacity: true)
        }
    }
    if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
}

/// Blocks until `pid` ends, and says how.
private func waitForExit(_ pid: pid_t) -> ChildProcess.Termination {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return .exited(-1) }
    }
    // WIFEXITED / WTERMSIG are macros Swift does not import.
    let signal = status & 0x7f
    return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
}

/// The child's termination, set once by the reaper thread, awaited by any
/// number of tasks.
private final class ExitStatusBox: @unchecked Sendable {
    private let lock = NSCondition()
    private var result: ChildProcess.Termination?
    private var waiters: [CheckedContinuation<ChildProcess.Termination, Never>] = []

    var isResolved: Bool { lock.withLock { result != nil } }

    func resolve(_ termination: ChildProcess.Termination) {
        let waiting = lock.withLock {
            result = termination
            lock.broadcast()
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in waiting { waiter.resume(returning: termination) }
    }

    func wait() -> ChildProcess.Termination {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if let result { return result }
            lock.wait()
        }
    }

    func value() async -> ChildProcess.Termination {
        await withCheckedContinuation { continuation in
            let ready: ChildProcess.Termination? = lock.withLock {
                if let result { return result }
                waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
