import ArgumentParser
import Foundation

/// The process's entry point: runs ``FrameRPCBench`` in a task while the
/// main thread waits, instead of an `async` main.
///
/// Why: an `async` main on Linux hands the main thread to `dispatchMain()`,
/// which parks it in `sigsuspend` after `pthread_exit`, and valgrind 3.19
/// (Debian 12's) crashes on that ("the 'impossible' happened", SIGSEGV),
/// so bench/callgrind.sh could not count instructions. A main thread
/// blocked on a semaphore is something valgrind runs fine. Nothing here
/// needs the main actor.
@main
enum Entry {
    static func main() {
        if CommandLine.arguments.contains("--nio-executor") {
            // Must happen before the first task starts.
            do { try installNIOExecutor() } catch { FrameRPCBench.exit(withError: error) }
        }
        let done = DispatchSemaphore(value: 0)
        // Parsed and run here rather than by `FrameRPCBench.main()`, which
        // runs on the main actor: the main thread is the one waiting below.
        // Detached for the same reason (a plain `Task` would inherit this
        // function's main-actor isolation); its owner is this function,
        // which waits for it.
        Task.detached {
            do {
                var command = try FrameRPCBench.parseAsRoot()
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch {
                FrameRPCBench.exit(withError: error)
            }
            done.signal()
        }
        done.wait()
    }
}
