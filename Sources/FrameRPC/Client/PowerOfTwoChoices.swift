import Synchronization

/// Power of two random choices: of two endpoints drawn at random, the one
/// with fewer calls in flight.
///
/// It spreads load nearly as well as always taking the least loaded
/// endpoint, without every client herding onto the same one, and it needs
/// only two loads per pick. A pure function of its inputs (the random
/// number included), so tests drive it exactly.
enum PowerOfTwoChoices {
    /// The index picked among `0..<count`, or `nil` when no index is eligible.
    ///
    /// - Parameters:
    ///   - random: 64 random bits; the low half draws the first candidate,
    ///     the high half the second (always a different one).
    ///   - isEligible: whether an endpoint may be picked at all. When one of
    ///     the two drawn is not, the other is taken; when neither is, the
    ///     pick is made among the eligible ones only.
    ///   - load: an endpoint's calls in flight; ties go to the first drawn.
    static func pick(
        count: Int,
        random: UInt64,
        isEligible: (Int) -> Bool,
        load: (Int) -> Int
    ) -> Int? {
        guard count > 1 else { return count == 1 && isEligible(0) ? 0 : nil }
        let first = Int((random & 0xFFFF_FFFF) % UInt64(count))
        var second = Int((random >> 32) % UInt64(count - 1))
        if second >= first { second += 1 }
        switch (isEligible(first), isEligible(second)) {
        case (true, true):
            return load(second) < load(first) ? second : first
        case (true, false):
            return first
        case (false, true):
            return second
        case (false, false):
            // Rare (a degraded set): draw again among the eligible ones.
            let eligible = (0..<count).filter(isEligible)
            guard let index = pick(count: eligible.count, random: random.rotated, isEligible: { _ in true }, load: { load(eligible[$0]) }) else {
                return nil
            }
            return eligible[index]
        }
    }
}

extension UInt64 {
    fileprivate var rotated: UInt64 { (self << 17) | (self >> 47) }
}

/// Cheap random numbers for picking, shared by every task using a client:
/// SplitMix64 over an atomic counter. Not for anything secret.
struct PickRandom: ~Copyable, Sendable {
    private let counter: Atomic<UInt64>

    init(seed: UInt64 = .random(in: .min ... .max)) {
        counter = Atomic(seed)
    }

    func next() -> UInt64 {
        var z = counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
