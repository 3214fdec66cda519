/// A proto leading comment split the way the OpenAPI document shows it: the
/// first sentence as the summary, whole, and the rest as the description.
///
/// Lines are joined into paragraphs (a blank comment line separates them),
/// so a sentence that wraps over several comment lines stays one sentence.
/// A sentence ends at a `.`, `!` or `?` followed by a space or the end of
/// its paragraph, unless it is an abbreviation such as `e.g.` or `i.e.`; a
/// first paragraph with no such end is one sentence.
struct DocComment: Equatable {
    let summary: String
    let description: String

    /// Summary and description together, for places with one text (schema
    /// and property descriptions).
    var text: String {
        description.isEmpty ? summary : summary + (description.contains("\n") ? "\n\n" : " ") + description
    }

    /// - Parameter comments: as `protoSourceComments()` gives them, each
    ///   line starting with `///`.
    init(_ comments: String) {
        let paragraphs = Self.paragraphs(comments)
        guard let first = paragraphs.first else {
            summary = ""
            description = ""
            return
        }
        let end = Self.endOfFirstSentence(first)
        summary = String(first[..<end])
        let rest = String(first[end...]).drop { $0 == " " }
        description = ([String(rest)] + paragraphs.dropFirst())
            .filter { !$0.isEmpty }
            .joined(separator: "\n\n")
    }

    private static func paragraphs(_ comments: String) -> [String] {
        var paragraphs: [String] = []
        var current: [String] = []
        for rawLine in comments.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(rawLine)
            while line.first == " " { line = line.dropFirst() }
            while line.first == "/" { line = line.dropFirst() }
            if line.first == " " { line = line.dropFirst() }
            while line.last == " " { line = line.dropLast() }
            if line.isEmpty {
                if !current.isEmpty { paragraphs.append(current.joined(separator: " ")) }
                current = []
            } else {
                current.append(String(line))
            }
        }
        if !current.isEmpty { paragraphs.append(current.joined(separator: " ")) }
        return paragraphs
    }

    private static let abbreviations: Set<String> = ["e.g", "i.e", "etc", "vs", "cf"]

    private static func endOfFirstSentence(_ paragraph: String) -> String.Index {
        var index = paragraph.startIndex
        while index < paragraph.endIndex {
            let character = paragraph[index]
            let next = paragraph.index(after: index)
            if character == "." || character == "!" || character == "?",
               next == paragraph.endIndex || paragraph[next] == " " {
                let word = paragraph[..<index].split(separator: " ").last.map(String.init) ?? ""
                let stripped = word.drop { $0 == "(" || $0 == "`" }
                if character != "." || !abbreviations.contains(String(stripped).lowercased()) {
                    return next
                }
            }
            index = next
        }
        return paragraph.endIndex
    }
}
