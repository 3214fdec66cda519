import Foundation
import Testing

/// The Dockerfile, read as plain text: one image that builds the `shop`
/// product in a Swift stage and runs it, as a non-root user, in a slim one.
/// No Docker engine runs here, so this structure is all that is checked.
@Suite("Dockerfile")
struct DockerfileTests {
    let dockerfile: Dockerfile

    init() throws {
        dockerfile = try Dockerfile.load()
    }

    /// The toolchain (over a gigabyte) must not ship: building and running
    /// happen in different stages, the last on a slim Debian.
    @Test func buildsOnTheSwiftImageAndRunsOnSlimDebian() throws {
        try #require(dockerfile.stages.count >= 2, "a multi-stage build has at least two FROM lines")
        let build = try #require(dockerfile.stages.first)
        let run = try #require(dockerfile.stages.last)
        #expect(build.baseImage.hasPrefix("swift:"))
        #expect(build.name != nil, "the build stage is named, so the run stage can COPY --from it")
        #expect(run.baseImage == "debian:bookworm-slim")
    }

    /// Debian bookworm is what the build image's Swift is built for; a
    /// different Debian in the run stage could lack the libraries it links.
    @Test func buildsAndRunsOnTheSameDebianRelease() throws {
        let build = try #require(dockerfile.stages.first)
        let run = try #require(dockerfile.stages.last)
        #expect(build.baseImage.hasSuffix("-bookworm"))
        #expect(run.baseImage.hasPrefix("debian:bookworm"))
    }

    /// An older toolchain than `swift-tools-version` cannot read Package.swift.
    @Test func buildsWithASwiftAtLeastThePackagesToolsVersion() throws {
        let build = try #require(dockerfile.stages.first)
        let manifest = try Repository.text("Package.swift")
        let tools = try #require(manifest.firstMatch(of: /swift-tools-version:\s*([0-9]+)\.([0-9]+)/))
        let image = try #require(build.baseImage.firstMatch(of: /^swift:([0-9]+)\.([0-9]+)/))
        let toolsVersion = try [#require(Int(tools.output.1)), #require(Int(tools.output.2))]
        let imageVersion = try [#require(Int(image.output.1)), #require(Int(image.output.2))]
        #expect(imageVersion.lexicographicallyPrecedes(toolsVersion) == false, "swift:\(imageVersion) is older than tools version \(toolsVersion)")
    }

    /// One release binary, the package's `shop` executable, with the Swift
    /// runtime linked in so the run stage needs no Swift libraries.
    @Test func buildsTheShopProductInReleaseWithAStaticSwiftRuntime() throws {
        let build = try #require(dockerfile.stages.first)
        let swiftBuilds = build.instructions("RUN").filter { $0.arguments.contains("swift build") && $0.words.contains("--product") }
        let command = try #require(swiftBuilds.first, "the build stage runs `swift build --product ...`")
        let words = command.words
        let flag = try #require(words.firstIndex(of: "--product"))
        try #require(flag + 1 < words.count, "--product has a value")
        #expect(words[flag + 1] == "shop")
        #expect(command.arguments.contains("-c release"))
        #expect(words.contains("--static-swift-stdlib"))
        #expect(try Repository.text("Package.swift").contains(#".executable(name: "shop""#), "Package.swift still has a `shop` executable product")
    }

    /// GRDB compiles against the system SQLite and loads it at run time.
    @Test func installsSQLiteHeadersToBuildAndTheLibraryToRun() throws {
        let build = try #require(dockerfile.stages.first)
        let run = try #require(dockerfile.stages.last)
        #expect(build.runWords.contains("libsqlite3-dev"))
        #expect(run.runWords.contains("libsqlite3-0"))
        #expect(!run.runWords.contains("libsqlite3-dev"), "headers are for building only")
    }

    /// The run stage gets the built binary, on the PATH, from the build stage.
    @Test func copiesTheBinaryFromTheBuildStageOntoThePath() throws {
        let build = try #require(dockerfile.stages.first)
        let buildName = try #require(build.name)
        let run = try #require(dockerfile.stages.last)
        let copies = run.instructions("COPY").filter { $0.words.contains("--from=\(buildName)") }
        #expect(copies.contains { $0.words.last == "/usr/local/bin/shop" })
    }

    /// A container that is broken into should not be root; and Kubernetes'
    /// `runAsNonRoot` can only verify a numeric user.
    @Test func runsAsANumericNonRootUser() throws {
        let run = try #require(dockerfile.stages.last)
        let user = try #require(run.instructions("USER").last, "the run stage sets USER")
        let uid = try #require(Int(user.arguments.split(separator: ":")[0]), "USER \(user.arguments) is numeric")
        #expect(uid != 0)
        #expect(user.arguments != "root")
    }

    /// Every role is the same binary: the command (`serve user`,
    /// `gateway`, `health host:port`) picks it.
    @Test func startsTheShopBinaryForEveryRole() throws {
        let run = try #require(dockerfile.stages.last)
        let entrypoint = try #require(run.instructions("ENTRYPOINT").last)
        #expect(entrypoint.execForm == ["shop"], "exec form, so signals reach shop directly")
    }

    /// The databases live in `/data`, which is where `shop serve` keeps them
    /// when no `--data` is given.
    @Test func declaresTheDataVolumeWhereServeKeepsItsDatabases() throws {
        let run = try #require(dockerfile.stages.last)
        let volumes = run.instructions("VOLUME").flatMap(\.words)
        #expect(volumes.contains("/data"))
        let environment = run.instructions("ENV").map(\.arguments)
        #expect(environment.contains("SHOP_DATA_DIR=/data"))
    }

    /// EXPOSE documents the ports; they must be the code's defaults.
    @Test func exposesTheCodesDefaultPorts() throws {
        let run = try #require(dockerfile.stages.last)
        let exposed = Set(run.instructions("EXPOSE").flatMap(\.words).compactMap { Int($0.split(separator: "/")[0]) })
        let expected = Set(try CodeFacts.services().map(\.port) + [CodeFacts.gatewayDefaults.port])
        #expect(exposed == expected)
    }

    /// compose.yaml's healthchecks run a program inside the image: `shop`
    /// (the entrypoint's binary) or `curl` for the gateway's HTTP check,
    /// which the image must then install.
    @Test func hasTheProgramEveryComposeHealthcheckRuns() throws {
        let compose = try ComposeFile.load()
        let run = try #require(dockerfile.stages.last)
        // PostgreSQL's container runs its own image, with its own pg_isready.
        for (name, service) in compose.services where service.build != nil {
            let test = try #require(service.healthcheck?.test, "\(name) has a healthcheck")
            try #require(test.first == "CMD" && test.count >= 2, "\(name): exec form [\"CMD\", program, ...]")
            switch test[1] {
            case "shop": break
            case "curl": #expect(run.runWords.contains("curl"), "\(name)'s healthcheck runs curl, which the image does not install")
            default: Issue.record("\(name)'s healthcheck runs \(test[1]), which the image is not known to have")
            }
        }
    }

    /// The build context should not carry build folders (gigabytes, built
    /// for another machine), databases, or the git history.
    @Test func dockerignoreLeavesOutBuildFoldersDataAndHistory() throws {
        let patterns = Set(try Repository.text(".dockerignore").split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") })
        #expect(patterns.contains("**/.build*") || patterns.contains(".build*"))
        #expect(patterns.contains("data"))
        #expect(patterns.contains(".git"))
    }
}
