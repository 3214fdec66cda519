import Foundation
import Testing

/// The checkout these tests were compiled from. The deployment files and the
/// source tree are read from it directly, so a test sees exactly what would
/// be committed, never a copy.
enum Repository {
    /// `Tests/DeploymentTests/Support/Repository.swift` is four levels below
    /// the package root.
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }()

    /// The text of a file, by its path relative to the repository root.
    static func text(_ relativePath: String) throws -> String {
        let url = root.appendingPathComponent(relativePath)
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw RepositoryError("cannot read \(relativePath): \(error)")
        }
    }

    /// Paths (relative to the root) of the regular files under `folder`
    /// whose names end in one of `extensions`, sorted.
    static func files(under folder: String, withExtensions extensions: Set<String>) throws -> [String] {
        let base = root.appendingPathComponent(folder)
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw RepositoryError("cannot list \(folder)")
        }
        var paths: [String] = []
        let prefix = root.standardizedFileURL.path + "/"
        for case let url as URL in enumerator where extensions.contains(url.pathExtension) {
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(prefix) else { continue }
            paths.append(String(path.dropFirst(prefix.count)))
        }
        return paths.sorted()
    }

    /// The text of every Swift file under `folder` (`Sources`, `Sources/Gateway`).
    static func swiftSources(under folder: String) throws -> [String] {
        try files(under: folder, withExtensions: ["swift"]).map(text)
    }

    /// Every deployment file the tests guard, by relative path.
    static let deploymentFiles: [String] = [
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
    ]

    /// `deploymentFiles` plus every YAML file under `deploy/kubernetes`.
    static func allDeploymentFiles() throws -> [String] {
        deploymentFiles + (try files(under: "deploy/kubernetes", withExtensions: ["yaml", "yml"]))
    }
}

struct RepositoryError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    /// Every distinct match of `pattern`'s first capture group.
    func captures(of pattern: Regex<(Substring, Substring)>) -> [String] {
        matches(of: pattern).map { String($0.output.1) }
    }

    /// The `SHOP_*` names anywhere in this text (in values, keys, comments).
    var shopVariableNames: Set<String> {
        Set(captures(of: /\b(SHOP_[A-Z0-9_]*[A-Z0-9])\b/))
    }
}
