import Foundation
import Gateway
import Testing

/// deploy/kubernetes against the code: a Deployment and Service for every
/// service and the gateway, on the code's ports, with the code's variables,
/// probes through the health RPC, and one writer per SQLite database.
@Suite("deploy/kubernetes")
struct KubernetesTests {
    let manifests: KubernetesManifests
    let services: [CodeFacts.Service]

    init() throws {
        manifests = try KubernetesManifests.load()
        services = try CodeFacts.services()
    }

    typealias Key = GatewayConfiguration.EnvironmentKey

    var componentNames: Set<String> { Set(services.map(\.name) + ["gateway"]) }

    /// `kubectl apply -k` applies only what kustomization.yaml lists: a
    /// manifest left out would silently never be deployed.
    @Test func listsEveryManifestButTheSecretTemplateInTheKustomization() throws {
        let onDisk = Set(try Repository.files(under: KubernetesManifests.folder, withExtensions: ["yaml", "yml"]))
        let listed = Set(manifests.kustomization.resources.map { "\(KubernetesManifests.folder)/\($0)" })
        #expect(listed.isSubset(of: onDisk), "listed but missing: \(listed.subtracting(onDisk).sorted())")
        let unlisted = onDisk.subtracting(listed).subtracting([KubernetesManifests.kustomizationFile, KubernetesManifests.secretTemplateFile])
        #expect(unlisted.isEmpty, "not listed: \(unlisted.sorted())")
        #expect(!listed.contains(KubernetesManifests.secretTemplateFile), "applying the template would overwrite the real Secret")
    }

    /// Every document is YAML of a kind these manifests are meant to hold,
    /// and names are unique per kind.
    @Test func holdsOnlyKnownKindsWithUniqueNames() {
        var seen: Set<String> = []
        for (file, header) in manifests.objects {
            #expect(KubernetesManifests.knownKinds.contains(header.kind), "\(file): \(header.kind)")
            let identity = "\(header.kind)/\(header.metadata.name)"
            #expect(!seen.contains(identity), "\(identity) twice")
            seen.insert(identity)
        }
    }

    /// So that the short names (user:7001) resolve, everything is in the
    /// one Namespace the manifests create.
    @Test func putsEveryObjectInTheOneNamespace() throws {
        let namespace = try #require(manifests.namespaces.first?.metadata.name)
        #expect(manifests.namespaces.count == 1)
        for (file, header) in manifests.objects where header.kind != "Namespace" {
            #expect(header.metadata.namespace == namespace, "\(file): \(header.kind)/\(header.metadata.name)")
        }
        for secret in try KubernetesManifests.secretTemplates() {
            #expect(secret.metadata.namespace == namespace, "the template's \(secret.metadata.name)")
        }
    }

    /// One Deployment and one Service per service, and for the gateway.
    @Test func runsEveryServiceAndTheGatewayAsADeploymentWithAService() {
        #expect(Set(manifests.deployments.map(\.metadata.name)) == componentNames)
        #expect(Set(manifests.services.map(\.metadata.name)) == componentNames)
    }

    /// The services are reachable inside the cluster only; the gateway is
    /// the public entrance.
    @Test func exposesServicesInsideTheClusterAndTheGatewayThroughALoadBalancer() throws {
        for service in services {
            #expect(try manifests.service(service.name).spec.type == "ClusterIP", "\(service.name)")
        }
        #expect(try manifests.service("gateway").spec.type == "LoadBalancer")
    }

    /// Every role runs the one image that kustomization.yaml can retarget.
    @Test func runsEveryContainerFromTheOneImage() throws {
        let images = Set(try manifests.deployments.map { try $0.container().image })
        #expect(images.count == 1, "\(images)")
        let image = try #require(images.first)
        let name = String(image.split(separator: ":")[0])
        #expect(manifests.kustomization.images?.contains { $0.name == name } == true, "kustomization.yaml can set the image \(name)")
    }

    /// `shop serve <name>` on the catalog port; the container declares it
    /// and the Service sends that port to it.
    @Test func servesEachServiceOnItsCatalogPort() throws {
        for service in services {
            let container = try manifests.deployment(service.name).container()
            #expect(container.command == nil, "the image's ENTRYPOINT (shop) runs")
            #expect(container.args == ["serve", service.name, "--host", "0.0.0.0", "--port", "\(service.port)", "--data", "/data"], "\(service.name)")
            #expect(container.ports?.first { $0.name == "framerpc" }?.containerPort == service.port, "\(service.name)")
            let ports = try manifests.service(service.name).spec.ports
            try #require(ports.count == 1, "\(service.name): one Service port")
            #expect(ports[0].port == service.port, "\(service.name): others reach it at \(service.address)")
            let target = ports[0].targetPort.flatMap(container.resolve) ?? ports[0].port
            #expect(target == service.port, "\(service.name): the Service sends to the container's port")
        }
    }

    /// A Service whose selector matches no pod, or another component's,
    /// routes nowhere or to the wrong server.
    @Test func routesEachServiceToItsOwnPodsOnly() throws {
        for name in componentNames {
            let deployment = try manifests.deployment(name)
            let labels = deployment.spec.template.metadata.labels
            let selector = try manifests.service(name).spec.selector
            #expect(!selector.isEmpty)
            #expect(selector.allSatisfy { labels[$0.key] == $0.value }, "Service \(name) selects its pods")
            #expect(deployment.spec.selector.matchLabels.allSatisfy { labels[$0.key] == $0.value }, "Deployment \(name) selects its pods")
            for other in manifests.deployments where other.metadata.name != name {
                let otherLabels = other.spec.template.metadata.labels
                #expect(!selector.allSatisfy { otherLabels[$0.key] == $0.value }, "Service \(name) also selects \(other.metadata.name)'s pods")
            }
        }
    }

    /// The probes ask the service's own FrameRPC health RPC, on its port.
    @Test func probesEachServiceThroughTheHealthRPCOnItsPort() throws {
        for service in services {
            let container = try manifests.deployment(service.name).container()
            let expected = ["shop", "health", "127.0.0.1:\(service.port)"]
            #expect(container.readinessProbe?.exec?.command == expected, "\(service.name) readiness")
            #expect(container.livenessProbe?.exec?.command == expected, "\(service.name) liveness")
        }
    }

    /// Ready when GET /health (every service answering) succeeds; alive
    /// when GET / does, so an outage behind the gateway never restarts it.
    @Test func probesTheGatewayHealthForReadinessAndItsRootForLiveness() throws {
        let container = try manifests.deployment("gateway").container()
        let readiness = try #require(container.readinessProbe?.httpGet)
        let liveness = try #require(container.livenessProbe?.httpGet)
        #expect(readiness.path == "/health")
        #expect(liveness.path == "/")
        #expect(container.resolve(readiness.port) == CodeFacts.gatewayDefaults.port)
        #expect(container.resolve(liveness.port) == CodeFacts.gatewayDefaults.port)
    }

    /// The gateway listens on all interfaces at the code's default port, and
    /// its Service sends traffic there.
    @Test func startsTheGatewayOnAllInterfacesAtItsDefaultPort() throws {
        let container = try manifests.deployment("gateway").container()
        let environment = try manifests.environment(of: container)
        let port = CodeFacts.gatewayDefaults.port
        #expect(container.args == ["gateway"])
        #expect(environment[Key.host]?.plainValue == "0.0.0.0")
        #expect(environment[Key.port]?.plainValue == "\(port)")
        #expect(container.ports?.map(\.containerPort) == [port])
        let servicePort = try #require(try manifests.service("gateway").spec.ports.first)
        #expect(servicePort.targetPort.flatMap(container.resolve) == port)
    }

    /// SQLite takes one writer: two pods of a service, even briefly during
    /// a rolling update, would be two writers on one volume.
    @Test func runsExactlyOneReplicaOfEachServiceAndReplacesItByRecreating() throws {
        for service in services {
            let spec = try manifests.deployment(service.name).spec
            #expect(spec.replicas == 1, "\(service.name)")
            #expect(spec.strategy?.type == "Recreate", "\(service.name)")
        }
    }

    /// Each database survives restarts on its own claim, mounted at /data.
    @Test func keepsEachDatabaseOnItsOwnPersistentVolumeClaim() throws {
        var claimOwners: [String: String] = [:]
        for service in services {
            let deployment = try manifests.deployment(service.name)
            let container = try deployment.container()
            let mount = try #require(container.volumeMounts?.first { $0.mountPath == "/data" }, "\(service.name) mounts /data")
            let volume = try #require(deployment.spec.template.spec.volumes?.first { $0.name == mount.name })
            let claim = try #require(volume.persistentVolumeClaim?.claimName, "\(service.name)'s /data is a claim")
            let declared = try #require(manifests.claims.first { $0.metadata.name == claim }, "claim \(claim) exists")
            #expect(declared.spec.accessModes == ["ReadWriteOnce"])
            #expect(claimOwners[claim] == nil, "\(claim) shared by \(service.name) and \(claimOwners[claim] ?? "")")
            claimOwners[claim] = service.name
        }
        #expect(Set(claimOwners.keys) == Set(manifests.claims.map(\.metadata.name)), "no unused claim")
    }

    /// The addresses resolve through the ConfigMap to the Services of this
    /// folder, at the ports the upstreams serve on.
    @Test func givesEachServiceTheAddressesOfTheServicesItCalls() throws {
        for service in services {
            let environment = try manifests.environment(of: try manifests.deployment(service.name).container())
            for upstream in try CodeFacts.upstreams(of: service) {
                let target = try #require(services.first { $0.name == upstream })
                #expect(environment[Key.address(of: upstream)]?.plainValue == target.address, "\(service.name) -> \(upstream)")
                #expect(try manifests.service(upstream).spec.ports.map(\.port) == [target.port])
            }
        }
    }

    /// The order service places orders through the other four.
    @Test func givesTheOrderServiceTheAddressesOfUserProductInventoryAndNotification() throws {
        let environment = try manifests.environment(of: try manifests.deployment("order").container())
        for name in ["user", "product", "inventory", "notification"] {
            let target = try #require(services.first { $0.name == name })
            #expect(environment[Key.address(of: name)]?.plainValue == target.address)
        }
    }

    /// The gateway calls every service of its route table and checks all
    /// five in GET /health.
    @Test func givesTheGatewayTheAddressesOfAllFiveServices() throws {
        let environment = try manifests.environment(of: try manifests.deployment("gateway").container())
        #expect(CodeFacts.gatewayUpstreams.isSubset(of: Set(services.map(\.name))))
        for service in services {
            #expect(environment[Key.address(of: service.name)]?.plainValue == service.address, "gateway -> \(service.name)")
        }
    }

    /// The user service signs tokens, the gateway and every service verify
    /// them: all get the same key, from a Secret, never a literal or a ConfigMap.
    @Test func takesTheSigningKeyFromTheSameSecretForEveryServiceAndTheGateway() throws {
        var references: [Kubernetes.Container.KeySelector] = []
        for name in try CodeFacts.services().map(\.name) + ["gateway"] {
            let environment = try manifests.environment(of: try manifests.deployment(name).container())
            guard case .secret(let reference) = environment[Key.signingKey] else {
                Issue.record("\(name): \(Key.signingKey) is not from a Secret")
                continue
            }
            references.append(reference)
        }
        #expect(references.count == 6)
        #expect(Set(references).count == 1, "one key for all: \(references)")
        let templates = try KubernetesManifests.secretTemplates()
        for reference in references {
            #expect(templates.contains { $0.metadata.name == reference.name && $0.stringData?[reference.key] != nil }, "the template documents \(reference.name)/\(reference.key)")
        }
        #expect(manifests.secrets.isEmpty, "no Secret is applied from the repository")
    }

    /// A variable set on a container that does not read it is a typo or a
    /// leftover, and hides the setting that was meant.
    @Test func setsOnlyVariablesEachContainerReads() throws {
        for service in services {
            let read = try CodeFacts.variablesRead(by: service)
            let set = Set((try manifests.deployment(service.name).container().env ?? []).map(\.name))
            #expect(set.subtracting(read).isEmpty, "\(service.name) sets unread \(set.subtracting(read).sorted())")
        }
        let gatewayRead = try CodeFacts.variablesReadByGateway()
        let gatewaySet = Set((try manifests.deployment("gateway").container().env ?? []).map(\.name))
        #expect(gatewaySet.subtracting(gatewayRead).isEmpty, "the gateway sets unread \(gatewaySet.subtracting(gatewayRead).sorted())")
    }

    /// The ConfigMap holds only variables the code reads, and none secret.
    @Test func keepsOnlyReadAndNonSecretSettingsInTheConfigMap() throws {
        let read = try CodeFacts.variablesReadAnywhere()
        for map in manifests.configMaps {
            let keys = Set(map.data.keys)
            #expect(keys.subtracting(read).isEmpty, "\(map.metadata.name): unread \(keys.subtracting(read).sorted())")
            #expect(keys.isDisjoint(with: CodeFacts.secretVariables), "\(map.metadata.name) holds a secret")
        }
    }

    /// Every pod runs as the image's non-root user; fsGroup lets the
    /// services write their volumes.
    @Test func runsEveryPodAsTheImagesNonRootUser() throws {
        let run = try #require(try Dockerfile.load().stages.last)
        let user = try #require(run.instructions("USER").last)
        let uid = try #require(Int(user.arguments.split(separator: ":")[0]))
        for deployment in manifests.deployments {
            let context = deployment.spec.template.spec.securityContext
            #expect(context?.runAsNonRoot == true, "\(deployment.metadata.name)")
            #expect(context?.runAsUser == uid, "\(deployment.metadata.name) runs as the image's user \(uid)")
            #expect(try deployment.container().securityContext?.allowPrivilegeEscalation == false, "\(deployment.metadata.name)")
        }
        for service in services {
            #expect(try manifests.deployment(service.name).spec.template.spec.securityContext?.fsGroup == uid, "\(service.name) can write its volume")
        }
    }

    /// Without requests the scheduler cannot place pods sensibly; without
    /// limits one runaway pod starves its node.
    @Test func setsCPUAndMemoryRequestsAndLimitsOnEveryContainer() throws {
        for deployment in manifests.deployments {
            let resources = try deployment.container().resources
            for (kind, values) in [("requests", resources?.requests), ("limits", resources?.limits)] {
                #expect(values?["cpu"] != nil, "\(deployment.metadata.name) \(kind) cpu")
                #expect(values?["memory"] != nil, "\(deployment.metadata.name) \(kind) memory")
            }
        }
    }
}
