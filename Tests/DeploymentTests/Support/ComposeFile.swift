import Foundation
import Yams

/// `compose.yaml`, decoded with Yams: the fields the tests check. YAML
/// anchors and `<<` merge keys are resolved the way Compose resolves them.
struct ComposeFile: Decodable {
    struct Service: Decodable {
        var image: String?
        var build: String?
        var pullPolicy: String?
        var command: [String]?
        var environment: [String: String]?
        var ports: [String]?
        var volumes: [String]?
        var dependsOn: [String: Dependency]?
        var healthcheck: Healthcheck?
        var readOnly: Bool?
        var capDrop: [String]?
        var secrets: [SecretMount]?
        var containerName: String?

        enum CodingKeys: String, CodingKey {
            case image, build, command, environment, ports, volumes, healthcheck, secrets
            case containerName = "container_name"
            case pullPolicy = "pull_policy"
            case dependsOn = "depends_on"
            case readOnly = "read_only"
            case capDrop = "cap_drop"
        }
    }

    /// A secret a service mounts: `target` under /run/secrets.
    struct SecretMount: Decodable {
        var source: String
        var target: String
    }

    /// A top-level secret, from a file next to compose.yaml.
    struct SecretFile: Decodable {
        var file: String
    }

    struct Dependency: Decodable {
        var condition: String
    }

    struct Healthcheck: Decodable {
        var test: [String]
    }

    var services: [String: Service]
    /// The named volumes declared at the top level.
    var volumes: KeySet?
    var secrets: [String: SecretFile]?

    static let path = "compose.yaml"

    static func load() throws -> ComposeFile {
        try YAMLDecoder().decode(ComposeFile.self, from: Repository.text(path))
    }

    /// The service of that name, or an error naming it.
    func service(_ name: String) throws -> Service {
        guard let service = services[name] else { throw RepositoryError("\(Self.path) has no service '\(name)'") }
        return service
    }
}

/// The keys of a mapping whose values do not matter (`volumes: {user-data:}`).
struct KeySet: Decodable {
    let keys: Set<String>

    private struct AnyKey: CodingKey {
        let stringValue: String
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        keys = Set(container.allKeys.map(\.stringValue))
    }
}
