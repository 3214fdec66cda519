import Synchronization

/// Random-looking 64-bit ids for traces and spans without a system call
/// each: SplitMix64 over one atomic counter, seeded once from the system's
/// random source.
///
/// Every call and every hop draws one, and `SystemRandomNumberGenerator`
/// is a `getrandom` call each time. Ids must be unique and evenly spread,
/// not secret: a trace id grants nothing.
enum TraceIDGenerator {
    /// SplitMix64's increment, the golden ratio in 64 bits.
    private static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let state: Atomic<UInt64> = {
        var random = SystemRandomNumberGenerator()
        return Atomic(random.next())
    }()

    static func next() -> UInt64 {
        var z = state.wrappingAdd(gamma, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An id that is not zero (W3C forbids all-zero ids).
    static func nextNonZero() -> UInt64 {
        var id = next()
        while id == 0 { id = next() }
        return id
    }
}
