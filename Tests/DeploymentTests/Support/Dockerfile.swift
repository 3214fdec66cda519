import Foundation

/// A Dockerfile read as Docker reads it, as far as the tests need: comment
/// lines dropped, `\` continuations joined, instructions grouped by the
/// `FROM` that starts their stage.
struct Dockerfile {
    struct Instruction: CustomStringConvertible {
        /// Upper-cased: `RUN`, `COPY`.
        let keyword: String
        let arguments: String
        var description: String { "\(keyword) \(arguments)" }

        /// The arguments of the JSON (exec) form, `["shop", "serve"]`, or
        /// `nil` for the shell form.
        var execForm: [String]? {
            guard arguments.hasPrefix("[") else { return nil }
            return try? JSONDecoder().decode([String].self, from: Data(arguments.utf8))
        }

        /// The arguments split on white space (enough for flags and package names).
        var words: [String] {
            arguments.split(whereSeparator: \.isWhitespace).map(String.init)
        }
    }

    struct Stage {
        /// The image after `FROM`, e.g. `swift:6.3-bookworm`.
        let baseImage: String
        /// The name after `AS`, if any.
        let name: String?
        let instructions: [Instruction]

        func instructions(_ keyword: String) -> [Instruction] {
            instructions.filter { $0.keyword == keyword }
        }

        /// Every word of every `RUN`, for "does it install X" questions.
        var runWords: Set<String> {
            Set(instructions("RUN").flatMap(\.words))
        }
    }

    let stages: [Stage]

    init(_ text: String) throws {
        var logical: [String] = []
        var pending = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            // Comments (and parser directives) are whole lines, also inside a continuation.
            if line.hasPrefix("#") { continue }
            if line.hasSuffix("\\") {
                pending += String(line.dropLast()) + " "
                continue
            }
            let joined = (pending + line).trimmingCharacters(in: .whitespaces)
            pending = ""
            if !joined.isEmpty { logical.append(joined) }
        }
        if !pending.trimmingCharacters(in: .whitespaces).isEmpty {
            throw RepositoryError("the Dockerfile ends inside a `\\` continuation")
        }

        var stages: [Stage] = []
        var current: (image: String, name: String?, instructions: [Instruction])?
        for line in logical {
            let keyword = String(line.prefix { !$0.isWhitespace }).uppercased()
            let arguments = line.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
            if keyword == "FROM" {
                if let current { stages.append(Stage(baseImage: current.image, name: current.name, instructions: current.instructions)) }
                let words = arguments.split(whereSeparator: \.isWhitespace).map(String.init)
                    .filter { !$0.hasPrefix("--") }
                guard let image = words.first else { throw RepositoryError("FROM without an image") }
                let name = words.count >= 3 && words[1].uppercased() == "AS" ? words[2] : nil
                current = (image, name, [])
            } else {
                guard current != nil else { throw RepositoryError("\(keyword) before the first FROM") }
                current?.instructions.append(Instruction(keyword: keyword, arguments: arguments))
            }
        }
        if let current { stages.append(Stage(baseImage: current.image, name: current.name, instructions: current.instructions)) }
        self.stages = stages
    }

    static func load() throws -> Dockerfile {
        try Dockerfile(Repository.text("Dockerfile"))
    }
}
