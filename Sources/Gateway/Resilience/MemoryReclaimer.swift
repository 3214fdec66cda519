#if canImport(Glibc)
import Glibc
#endif
import ServiceLifecycle

/// Gives memory freed after a burst back to the system.
///
/// glibc's allocator keeps pages it got for a burst (thousands of
/// connections' buffers, spread over one arena per busy thread) inside its
/// arenas after they are freed; only the top of the main heap is returned by
/// itself, so the resident size stays at the peak. Every ``interval``, while
/// the gateway is quiet (fewer than ``quietBelow`` requests in flight), this
/// calls `malloc_trim(0)`, which returns the free pages of every arena. That
/// bounds the RSS after a burst to what is still in use plus what was
/// allocated since the last trim. A no-op where the C library is not glibc.
///
/// A `Service`: its loop ends at graceful shutdown.
struct MemoryReclaimer: Service {
    let interval: Duration
    let quietBelow: Int
    let inFlight: @Sendable () -> Int

    init(interval: Duration = .seconds(5), quietBelow: Int = 16, inFlight: @escaping @Sendable () -> Int) {
        self.interval = interval
        self.quietBelow = quietBelow
        self.inFlight = inFlight
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                if inFlight() < quietBelow { Self.trim() }
            }
        }
    }

    /// Returns free heap pages to the system now.
    static func trim() {
        #if canImport(Glibc)
        // <malloc.h> is not in the Glibc module: look the function up.
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        let mallocTrim = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        _ = mallocTrim(0)
        #endif
    }
}
