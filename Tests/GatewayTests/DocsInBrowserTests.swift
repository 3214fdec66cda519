import Foundation
@testable import Gateway
import ServiceTesting
import ShopAPI
import Supervisor
import Testing

/// `/docs` rendered by a real browser: headless Chromium loads the page from
/// a live gateway, with Swagger UI's files served from a local copy (the
/// `swagger-ui-bundle` package from PyPI), and the rendered DOM lists every
/// route of the table. A screenshot is kept under
/// `.build/test-artifacts/docs.png`.
@Suite("Docs in a browser", .enabled(if: DocsBrowser.chromium != nil, "no Chromium installed (apt-get install chromium); .ci/run installs it"))
struct DocsInBrowserTests {
    @Test func theRenderedDocsPageListsEveryRoute() async throws {
        let assetsFolder = try #require(
            await DocsBrowser.swaggerUIFolder(),
            "Swagger UI's files not found: pip install swagger-ui-bundle"
        )
        let assets = try await StaticFiles.serve(assetsFolder)
        defer { assets.process.send(SIGKILL) }

        try await withDeadGateway({ $0.docs.swaggerUIAssets = try! DocsAssetsURL("http://127.0.0.1:\(assets.port)") }) { http, _ throws in
            let url = "http://127.0.0.1:\(http.port)/docs"
            let dom = try await DocsBrowser.render(url)
            for route in ShopRoutes.routes {
                #expect(
                    dom.contains("data-path=\"\(route.path)\""),
                    "the rendered /docs shows no operation for \(route.verb.name) \(route.path)"
                )
            }
            #expect(dom.contains("Authorize"), "no Authorize button for the bearer token")
            try await DocsBrowser.screenshot(url, to: DocsBrowser.artifacts.appendingPathComponent("docs.png"))
        }
    }
}

/// Headless Chromium, run as a child process.
enum DocsBrowser {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Where test artifacts go: `.build/test-artifacts` of this package.
    static var artifacts: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/test-artifacts")
    }

    /// The folder of `swagger-ui-bundle.js` in the installed
    /// `swagger_ui_bundle` Python package.
    static func swaggerUIFolder() async -> URL? {
        let output = ProcessOutput()
        guard let process = try? ChildProcess.spawn(
            executable: "/usr/bin/env",
            arguments: ["python3", "-c", "import swagger_ui_bundle; print(swagger_ui_bundle.swagger_ui_path)"],
            environment: ProcessInfo.processInfo.environment,
            onLine: output.append
        ) else { return nil }
        guard case .exited(0) = await process.termination(),
              let path = await output.waitFor(timeout: .seconds(5), { $0.hasPrefix("/") }) else { return nil }
        let folder = URL(fileURLWithPath: path)
        let bundle = folder.appendingPathComponent("swagger-ui-bundle.js").path
        return FileManager.default.fileExists(atPath: bundle) ? folder : nil
    }

    private static func arguments(_ extra: [String]) throws -> [String] {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("shop-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(profile.path)", "--virtual-time-budget=20000"] + extra
    }

    /// The page's DOM once its scripts ran.
    static func render(_ url: String) async throws -> String {
        let output = ProcessOutput()
        let process = try ChildProcess.spawn(
            executable: try #require(chromium),
            arguments: try arguments(["--dump-dom", url]),
            environment: ProcessInfo.processInfo.environment,
            onLine: output.append
        )
        let termination = await run(process, timeout: .seconds(90))
        // The output is read on another thread: wait for the DOM's end.
        _ = await output.waitFor(timeout: .seconds(5)) { $0.contains("</html>") }
        #expect(termination == .exited(0), "chromium: \(output.lines.suffix(20).joined(separator: "\n"))")
        return output.lines.joined(separator: "\n")
    }

    static func screenshot(_ url: String, to file: URL) async throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: file)
        let output = ProcessOutput()
        let process = try ChildProcess.spawn(
            executable: try #require(chromium),
            arguments: try arguments(["--window-size=1280,2400", "--screenshot=\(file.path)", url]),
            environment: ProcessInfo.processInfo.environment,
            onLine: output.append
        )
        _ = await run(process, timeout: .seconds(90))
        #expect(FileManager.default.fileExists(atPath: file.path), "no screenshot: \(output.lines.suffix(20).joined(separator: "\n"))")
    }

    /// Waits for `process`, killing it past `timeout`.
    private static func run(_ process: ChildProcess, timeout: Duration) async -> ChildProcess.Termination {
        await withTaskGroup(of: ChildProcess.Termination?.self) { group in
            group.addTask { await process.termination() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            while let result = await group.next() {
                if let result {
                    group.cancelAll()
                    return result
                }
                process.send(SIGKILL)
            }
            return await process.termination()
        }
    }
}

/// A folder served over HTTP on 127.0.0.1 by Python's `http.server`.
enum StaticFiles {
    static func serve(_ folder: URL) async throws -> (process: ChildProcess, port: Int) {
        let output = ProcessOutput()
        let process = try ChildProcess.spawn(
            executable: "/usr/bin/env",
            arguments: ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder.path],
            environment: ProcessInfo.processInfo.environment,
            onLine: output.append
        )
        let line = await output.waitFor(timeout: .seconds(20), while: { !process.hasExited }) { $0.contains("Serving HTTP on") }
        guard let line, let port = line.split(separator: " ").compactMap({ Int($0) }).first else {
            process.send(SIGKILL)
            throw DocsFixtureError("http.server did not start: \(output.lines.joined(separator: "\n"))")
        }
        return (process, port)
    }
}

struct DocsFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
