@testable import FrameRPCCodeGen
import Testing

/// How a proto comment becomes an OpenAPI summary and description.
@Suite("Doc comments")
struct DocCommentTests {
    @Test func aSentenceWrappedOverLinesIsOneWholeSummary() {
        let doc = DocComment("/// Prices come from the catalog, stock is reserved all or nothing, and the\n/// order is confirmed. Then more.\n")
        #expect(doc.summary == "Prices come from the catalog, stock is reserved all or nothing, and the order is confirmed.")
        #expect(doc.description == "Then more.")
    }

    @Test func abbreviationsAndDecimalsDoNotEndTheSentence() {
        let doc = DocComment("/// Sets a price, e.g. 19.99 for a teapot. Admins only.\n")
        #expect(doc.summary == "Sets a price, e.g. 19.99 for a teapot.")
        #expect(doc.description == "Admins only.")
    }

    @Test func laterParagraphsStayParagraphsOfTheDescription() {
        let doc = DocComment("/// One. Two.\n///\n/// Three.\n")
        #expect(doc.summary == "One.")
        #expect(doc.description == "Two.\n\nThree.")
    }

    @Test func aCommentWithoutAFullStopIsOneSentence() {
        let doc = DocComment("/// The caller's own account\n")
        #expect(doc.summary == "The caller's own account")
        #expect(doc.description.isEmpty)
    }

    @Test func noCommentGivesNothing() {
        let doc = DocComment("")
        #expect(doc.summary.isEmpty)
        #expect(doc.description.isEmpty)
    }
}
