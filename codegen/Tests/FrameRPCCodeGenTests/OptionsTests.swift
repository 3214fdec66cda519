import FrameRPCCodeGen
import Testing

@Suite("Generator options")
struct OptionsTests {
    @Test func unknownOptionIsRejectedByName() throws {
        let thrown = try #require(throws: CodeGenErrors.self) {
            try GeneratorOptions(pairs: [(key: "RouteTable", value: "Routes"), (key: "RoutTable", value: "Routes")])
        }
        #expect(thrown.errors.count == 1)
        #expect(thrown.errors.first?.element == "RoutTable")
        #expect(thrown.errors.first?.problem == "unknown generator option")
    }
}
