@testable import FrameRPC
import Testing

/// The picking rule alone, with the random draw given.
@Suite("Power of two choices")
struct PowerOfTwoChoicesTests {
    /// Draws endpoints `first` and `second` of `count` (second != first).
    static func draw(_ first: Int, _ second: Int, of count: Int) -> UInt64 {
        let high = second > first ? second - 1 : second
        return UInt64(first) | (UInt64(high) << 32)
    }

    @Test("of the two drawn, the one with fewer calls in flight is picked")
    func lessLoaded() {
        let loads = [5, 1, 9]
        let picked = PowerOfTwoChoices.pick(count: 3, random: Self.draw(0, 1, of: 3), isEligible: { _ in true }, load: { loads[$0] })
        #expect(picked == 1)
        let other = PowerOfTwoChoices.pick(count: 3, random: Self.draw(2, 0, of: 3), isEligible: { _ in true }, load: { loads[$0] })
        #expect(other == 0)
    }

    @Test("a tie goes to the first drawn, so equal loads spread at random")
    func tie() {
        let picked = PowerOfTwoChoices.pick(count: 2, random: Self.draw(1, 0, of: 2), isEligible: { _ in true }, load: { _ in 0 })
        #expect(picked == 1)
    }

    @Test("the two drawn are always different endpoints")
    func distinct() {
        for random in [UInt64(0), 1, 2, .max, 0xFFFF_FFFF, 0x1_0000_0000] {
            // With loads 0 and 1 the pick must be the unloaded one whenever both were drawn.
            let picked = PowerOfTwoChoices.pick(count: 2, random: random, isEligible: { _ in true }, load: { $0 == 0 ? 0 : 1 })
            #expect(picked == 0)
        }
    }

    @Test("an ineligible endpoint drawn is passed over for the other")
    func ineligibleDrawn() {
        let picked = PowerOfTwoChoices.pick(count: 3, random: Self.draw(0, 1, of: 3), isEligible: { $0 != 1 }, load: { $0 == 0 ? 100 : 0 })
        #expect(picked == 0)
    }

    @Test("when both drawn are ineligible, an eligible one is still found")
    func bothIneligible() {
        let picked = PowerOfTwoChoices.pick(count: 4, random: Self.draw(0, 1, of: 4), isEligible: { $0 == 3 }, load: { _ in 0 })
        #expect(picked == 3)
    }

    @Test("nothing eligible picks nothing")
    func noneEligible() {
        #expect(PowerOfTwoChoices.pick(count: 3, random: 7, isEligible: { _ in false }, load: { _ in 0 }) == nil)
        #expect(PowerOfTwoChoices.pick(count: 0, random: 7, isEligible: { _ in true }, load: { _ in 0 }) == nil)
    }

    @Test("a single endpoint is picked when eligible")
    func single() {
        #expect(PowerOfTwoChoices.pick(count: 1, random: 7, isEligible: { _ in true }, load: { _ in 3 }) == 0)
        #expect(PowerOfTwoChoices.pick(count: 1, random: 7, isEligible: { _ in false }, load: { _ in 3 }) == nil)
    }

    @Test("the shared random source draws every endpoint about equally often")
    func randomSpread() {
        let random = PickRandom(seed: 42)
        var counts = [0, 0, 0, 0]
        for _ in 0..<4_000 {
            counts[PowerOfTwoChoices.pick(count: 4, random: random.next(), isEligible: { _ in true }, load: { _ in 0 })!] += 1
        }
        #expect(counts.allSatisfy { (800...1_200).contains($0) }, "\(counts)")
    }
}
