import Foundation
import Gateway
import Testing

/// compose.yaml against the code: every service and the gateway in its own
/// container, on the ports and with the variables the code really uses,
/// every service scalable (`--scale order=3`) over one PostgreSQL.
@Suite("compose.yaml")
struct ComposeTests {
    let compose: ComposeFile
    let services: [CodeFacts.Service]

    init() throws {
        compose = try ComposeFile.load()
        services = try CodeFacts.services()
    }

    typealias Key = GatewayConfiguration.EnvironmentKey

    /// The database's container: PostgreSQL's own image, not ours.
    static let database = "postgres"

    /// The containers of the image built here: the five services and the gateway.
    var shopContainers: [String: ComposeFile.Service] { compose.services.filter { $0.key != Self.database } }

    /// One container per catalog service plus the gateway and the
    /// database, and nothing the code does not know.
    @Test func runsEveryServiceTheGatewayAndPostgreSQLAndNothingElse() {
        #expect(Set(compose.services.keys) == Set(services.map(\.name) + ["gateway", Self.database]))
    }

    /// Every shop container runs the image built from this repository's
    /// Dockerfile, never a same-named image pulled from a registry.
    @Test func buildsEveryContainerFromTheOneDockerfile() throws {
        let images = Set(shopContainers.values.map(\.image))
        #expect(images.count == 1, "one image for every role: \(images)")
        for (name, service) in shopContainers {
            #expect(service.build == ".", "\(name) builds ./Dockerfile")
            #expect(service.pullPolicy == "build", "\(name) never pulls its image")
        }
    }

    /// `shop serve <name>` on all interfaces, on the port the code gives the
    /// service by default.
    @Test func servesEachServiceOnItsCatalogPort() throws {
        for service in services {
            let command = try compose.service(service.name).command
            #expect(command == ["serve", service.name, "--host", "0.0.0.0", "--port", "\(service.port)"], "\(service.name)")
        }
    }

    /// A healthcheck on another port would ask the wrong server (or none).
    @Test func healthchecksEachServiceThroughTheHealthRPCOnItsPort() throws {
        for service in services {
            let test = try compose.service(service.name).healthcheck?.test
            #expect(test == ["CMD", "shop", "health", "127.0.0.1:\(service.port)"], "\(service.name)")
        }
    }

    /// The gateway's default host is loopback, unreachable from outside its
    /// container; its port must be the one published.
    @Test func startsTheGatewayOnAllInterfacesAtItsDefaultPort() throws {
        let gateway = try compose.service("gateway")
        let environment = gateway.environment ?? [:]
        let port = CodeFacts.gatewayDefaults.port
        #expect(gateway.command == ["gateway"])
        #expect(CodeFacts.gatewayDefaults.host == "127.0.0.1", "if the default changed, this file may no longer need to override it")
        #expect(environment[Key.host] == "0.0.0.0")
        #expect(environment[Key.port] == "\(port)")
        #expect(gateway.ports == ["\(port):\(port)"])
    }

    /// Only the gateway faces the host; the services are reached on the
    /// compose network.
    @Test func publishesOnlyTheGateway() throws {
        for service in services {
            #expect(try compose.service(service.name).ports == nil, "\(service.name) is not published")
        }
    }

    /// The gateway's healthcheck is HTTP, on its own port, at
    /// /health/ready: healthy while it can serve, not only while every
    /// service is up.
    @Test func healthchecksTheGatewayOverHTTPOnItsPort() throws {
        let test = try #require(try compose.service("gateway").healthcheck?.test)
        #expect(test.starts(with: ["CMD", "curl", "--fail"]))
        #expect(test.last == "http://127.0.0.1:\(CodeFacts.gatewayDefaults.port)/health/ready")
    }

    /// A service without the address of one it calls stops at start
    /// ("no address for the user service"). A `dns://` address, so that
    /// every replica Docker's DNS returns for the name is an endpoint.
    @Test func givesEachServiceTheAddressesOfTheServicesItCalls() throws {
        for service in services {
            let environment = try compose.service(service.name).environment ?? [:]
            for upstream in try CodeFacts.upstreams(of: service) {
                let target = try #require(services.first { $0.name == upstream }, "\(service.name) calls unknown \(upstream)")
                #expect(environment[Key.address(of: upstream)] == target.replicatedAddress, "\(service.name) -> \(upstream)")
            }
        }
    }

    /// The order service places orders through the other four; if the code
    /// stopped calling them, the deployment would need review.
    @Test func givesTheOrderServiceTheAddressesOfUserProductInventoryAndNotification() throws {
        let order = try #require(services.first { $0.name == "order" })
        #expect(try CodeFacts.upstreams(of: order) == ["user", "product", "inventory", "notification"])
        let environment = try compose.service("order").environment ?? [:]
        for name in ["user", "product", "inventory", "notification"] {
            let target = try #require(services.first { $0.name == name })
            #expect(environment[Key.address(of: name)] == target.replicatedAddress)
        }
    }

    /// The gateway calls every service of its route table and checks all
    /// five in GET /health.
    @Test func givesTheGatewayTheAddressesOfAllFiveServices() throws {
        let environment = try compose.service("gateway").environment ?? [:]
        #expect(CodeFacts.gatewayUpstreams.isSubset(of: Set(services.map(\.name))))
        for service in services {
            #expect(environment[Key.address(of: service.name)] == service.replicatedAddress, "gateway -> \(service.name)")
        }
    }

    /// A caller started before its upstreams are serving fails its first
    /// requests, a service started before its database stops; compose
    /// waits for their healthchecks.
    @Test func startsCallersOnlyAfterTheirUpstreamsAndTheDatabaseAreHealthy() throws {
        var expected: [String: Set<String>] = ["gateway": Set(services.map(\.name))]
        for service in services {
            expected[service.name] = try CodeFacts.upstreams(of: service).union([Self.database])
        }
        for (name, upstreams) in expected {
            let dependencies = try compose.service(name).dependsOn ?? [:]
            #expect(Set(dependencies.keys) == upstreams, "\(name) depends on exactly what it calls")
            for (upstream, dependency) in dependencies {
                #expect(dependency.condition == "service_healthy", "\(name) waits for \(upstream) to be healthy")
            }
        }
    }

    /// `docker compose up --scale NAME=3` needs services that hold nothing
    /// of their own: no volume (the data is in PostgreSQL), no published
    /// host port and no fixed container name (either would collide at the
    /// second replica).
    @Test func keepsEveryServiceScalable() throws {
        for name in services.map(\.name) + ["gateway"] {
            let service = try compose.service(name)
            #expect(service.volumes == nil, "\(name) keeps nothing in a volume")
            #expect(service.containerName == nil, "\(name) has no fixed container name")
            if name != "gateway" { #expect(service.ports == nil, "\(name) publishes no host port") }
        }
    }

    /// The one stateful container: PostgreSQL's image at a fixed major
    /// version, its data in a named volume, healthy once `pg_isready` says
    /// so, never published to the host.
    @Test func runsPostgreSQLWithAVolumeAndAHealthcheck() throws {
        let database = try compose.service(Self.database)
        let image = try #require(database.image)
        #expect(image.wholeMatch(of: /postgres:[0-9]+(\.[0-9]+)?-bookworm/) != nil, "\(image)")
        let volume = try #require(database.volumes?.first)
        let parts = volume.split(separator: ":").map(String.init)
        #expect(parts.count == 2 && parts[1] == "/var/lib/postgresql/data", "\(volume)")
        #expect(compose.volumes?.keys.contains(parts[0]) == true, "\(parts[0]) is a declared named volume")
        #expect(database.healthcheck?.test.starts(with: ["CMD", "pg_isready"]) == true)
        #expect(database.ports == nil, "the database is not published")
    }

    /// The database password and the URL that carries it come from the
    /// environment, compose refusing to start without them; none is
    /// written in the file.
    @Test func takesTheDatabasePasswordAndURLFromTheEnvironmentWithNoDefault() throws {
        let password = try #require(try compose.service(Self.database).environment?["POSTGRES_PASSWORD"])
        #expect(password.wholeMatch(of: /\$\{POSTGRES_PASSWORD:\?[^}]+\}/) != nil, "\(password)")
        for service in services {
            let url = try #require(try compose.service(service.name).environment?[CodeFacts.databaseURLVariable], "\(service.name) gets \(CodeFacts.databaseURLVariable)")
            #expect(url.wholeMatch(of: /\$\{SHOP_DATABASE_URL:\?[^}$]+\}/) != nil, "\(service.name): \(url)")
        }
        #expect(try compose.service("gateway").environment?[CodeFacts.databaseURLVariable] == nil, "the gateway has no database")
    }

    /// Every container shares the signing key (the user service signs
    /// tokens, the gateway and every service verify them), and it must come
    /// from the environment: `${SHOP_SIGNING_KEY:?...}` makes compose refuse
    /// to start without it, and leaves no default in the file.
    @Test func takesTheSigningKeyFromTheEnvironmentWithNoDefault() throws {
        #expect(shopContainers.count == 6)
        for name in shopContainers.keys.sorted() {
            let value = try #require(try compose.service(name).environment?[Key.signingKey], "\(name) gets \(Key.signingKey)")
            #expect(value.wholeMatch(of: /\$\{SHOP_SIGNING_KEY:\?[^}]+\}/) != nil, "\(name): \(value)")
        }
    }

    /// A variable set on a container that does not read it is a typo or a
    /// leftover, and hides the setting that was meant.
    @Test func setsOnlyVariablesEachContainerReads() throws {
        for service in services {
            let read = try CodeFacts.variablesRead(by: service)
            let set = Set((try compose.service(service.name).environment ?? [:]).keys)
            #expect(set.subtracting(read).isEmpty, "\(service.name) sets unread \(set.subtracting(read).sorted())")
        }
        let gatewayRead = try CodeFacts.variablesReadByGateway()
        let gatewaySet = Set((try compose.service("gateway").environment ?? [:]).keys)
        #expect(gatewaySet.subtracting(gatewayRead).isEmpty, "the gateway sets unread \(gatewaySet.subtracting(gatewayRead).sorted())")
    }

    /// Least privilege: nothing to write but the volume, no capabilities.
    @Test func runsEveryContainerReadOnlyWithoutCapabilities() {
        for (name, service) in compose.services {
            #expect(service.readOnly == true, "\(name)")
            #expect(service.capDrop == ["ALL"], "\(name)")
        }
    }
}
