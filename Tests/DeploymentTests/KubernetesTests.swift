import Foundation
import Gateway
import Testing
import Yams

/// deploy/kubernetes against the code: a Deployment and Service for every
/// service and the gateway, on the code's ports, with the code's variables,
/// probes through the health RPC, stateless replicas on PostgreSQL that
/// survive a node, a drain and an update, and a schema validator's verdict.
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
        let unlisted = onDisk.subtracting(listed).subtracting([KubernetesManifests.kustomizationFile, KubernetesManifests.secretTemplateFile, KubernetesManifests.trialDatabaseFile])
        #expect(unlisted.isEmpty, "not listed: \(unlisted.sorted())")
        #expect(!listed.contains(KubernetesManifests.secretTemplateFile), "applying the template would overwrite the real Secret")
        #expect(!listed.contains(KubernetesManifests.trialDatabaseFile), "the trial database is never applied with the system")
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

    /// The services are reachable inside the cluster only, through headless
    /// Services (no cluster IP: the name resolves to every ready pod, so the
    /// callers' balancing sees each replica); the gateway is the public
    /// entrance.
    @Test func exposesServicesHeadlessInsideTheClusterAndTheGatewayThroughALoadBalancer() throws {
        for service in services {
            let spec = try manifests.service(service.name).spec
            #expect(spec.type == "ClusterIP", "\(service.name)")
            #expect(spec.clusterIP == "None", "\(service.name) is headless")
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
            #expect(container.args == ["serve", service.name, "--host", "0.0.0.0", "--port", "\(service.port)"], "\(service.name)")
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
            #expect(container.startupProbe?.exec?.command == expected, "\(service.name) start-up")
            #expect(container.readinessProbe?.exec?.command == expected, "\(service.name) readiness")
            #expect(container.livenessProbe?.exec?.command == expected, "\(service.name) liveness")
        }
    }

    /// Ready when GET /health/ready (the gateway can serve: any one service
    /// usable) succeeds, not GET /health (every service up), which would
    /// take every gateway out of the load balancer when one service is
    /// down; alive and started when GET /health/live answers, which asks no
    /// service, so an outage behind the gateway never restarts it.
    @Test func probesTheGatewaysReadinessAndLivenessRoutes() throws {
        let container = try manifests.deployment("gateway").container()
        let readiness = try #require(container.readinessProbe?.httpGet)
        let liveness = try #require(container.livenessProbe?.httpGet)
        let startup = try #require(container.startupProbe?.httpGet)
        #expect(readiness.path == "/health/ready")
        #expect(liveness.path == "/health/live")
        #expect(startup.path == "/health/live")
        for probe in [readiness, liveness, startup] {
            #expect(container.resolve(probe.port) == CodeFacts.gatewayDefaults.port)
        }
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

    /// Stateless on PostgreSQL: two pods or more of every service and the
    /// gateway, replaced one at a time with a new pod ready before an old
    /// one goes (no capacity lost during an update).
    @Test func runsAtLeastTwoReplicasOfEveryComponentAndUpdatesThemRolling() throws {
        for name in componentNames.sorted() {
            let spec = try manifests.deployment(name).spec
            #expect((spec.replicas ?? 1) >= 2, "\(name)")
            #expect(spec.strategy?.type == "RollingUpdate", "\(name)")
            #expect(spec.strategy?.rollingUpdate?.maxUnavailable == .number(0), "\(name) keeps its capacity while updating")
        }
    }

    /// No service keeps anything in its pod: no claim exists, no pod mounts
    /// one (a ReadWriteOnce volume pins a pod to one node and one writer).
    @Test func mountsNoPersistentVolumeInAnyPod() throws {
        #expect(manifests.claims.isEmpty, "\(manifests.claims.map(\.metadata.name))")
        for deployment in manifests.deployments {
            let claims = (deployment.spec.template.spec.volumes ?? []).compactMap(\.persistentVolumeClaim)
            #expect(claims.isEmpty, "\(deployment.metadata.name) mounts \(claims.map(\.claimName))")
        }
    }

    /// Each service's database URL (it holds the password) comes from a
    /// Secret of its own, which the template documents, so each service can
    /// have a role that owns only its schema.
    @Test func takesEachServicesDatabaseURLFromASecretOfItsOwn() throws {
        let templates = try KubernetesManifests.secretTemplates()
        var secrets: Set<String> = []
        for service in services {
            let environment = try manifests.environment(of: try manifests.deployment(service.name).container())
            guard case .secret(let reference) = environment[CodeFacts.databaseURLVariable] else {
                Issue.record("\(service.name): \(CodeFacts.databaseURLVariable) is not from a Secret")
                continue
            }
            secrets.insert(reference.name)
            #expect(templates.contains { $0.metadata.name == reference.name && $0.stringData?[reference.key] != nil }, "the template documents \(reference.name)/\(reference.key)")
        }
        #expect(secrets.count == services.count, "one Secret per service: \(secrets.sorted())")
        let gateway = try manifests.environment(of: try manifests.deployment("gateway").container())
        #expect(gateway[CodeFacts.databaseURLVariable] == nil, "the gateway has no database")
    }

    /// A node drain or cluster upgrade evicts at most one pod of a
    /// component at a time: one budget per component, selecting its pods.
    @Test func limitsVoluntaryDisruptionsToOnePodPerComponent() throws {
        #expect(Set(manifests.disruptionBudgets.map(\.metadata.name)) == componentNames)
        for budget in manifests.disruptionBudgets {
            let labels = try manifests.deployment(budget.metadata.name).spec.template.metadata.labels
            #expect(budget.spec.selector.matchLabels.allSatisfy { labels[$0.key] == $0.value }, "\(budget.metadata.name) selects its pods")
            #expect(budget.spec.maxUnavailable == .number(1), "\(budget.metadata.name)")
        }
    }

    /// Every component scales by an autoscaler aimed at its own
    /// Deployment, never below the two replicas availability needs.
    @Test func scalesEveryComponentWithAnAutoscalerThatKeepsTwo() throws {
        #expect(Set(manifests.autoscalers.map(\.metadata.name)) == componentNames)
        for autoscaler in manifests.autoscalers {
            let target = autoscaler.spec.scaleTargetRef
            #expect(target.kind == "Deployment" && target.apiVersion == "apps/v1" && target.name == autoscaler.metadata.name, "\(autoscaler.metadata.name)")
            let minimum = autoscaler.spec.minReplicas ?? 1
            #expect(minimum >= 2, "\(autoscaler.metadata.name)")
            #expect(autoscaler.spec.maxReplicas > minimum, "\(autoscaler.metadata.name)")
            #expect(try manifests.deployment(target.name).spec.replicas == minimum, "\(target.name) starts at the autoscaler's minimum")
        }
    }

    /// A node lost takes one replica, not all: every component spreads its
    /// own pods over nodes.
    @Test func spreadsEveryComponentsPodsOverNodes() throws {
        for name in componentNames.sorted() {
            let template = try manifests.deployment(name).spec.template
            let byNode = template.spec.topologySpreadConstraints?.first { $0.topologyKey == "kubernetes.io/hostname" }
            let constraint = try #require(byNode, "\(name) spreads over nodes")
            #expect(constraint.maxSkew == 1, "\(name)")
            let selector = constraint.labelSelector?.matchLabels ?? [:]
            #expect(!selector.isEmpty && selector == template.metadata.labels, "\(name) spreads its own pods")
        }
    }

    /// kubernetes-validate (PyPI), strict: every manifest, the Secret
    /// template and the trial database against the Kubernetes API's own
    /// schemas, unknown fields rejected. .ci/run installs it.
    @Test(.enabled(if: SchemaValidator.executable != nil, "kubernetes-validate is not installed (pip install kubernetes-validate)"))
    func everyManifestPassesStrictSchemaValidation() async throws {
        let files = try Repository.files(under: KubernetesManifests.folder, withExtensions: ["yaml", "yml"])
            .filter { $0 != KubernetesManifests.kustomizationFile }
        #expect(files.contains(KubernetesManifests.trialDatabaseFile) && files.contains(KubernetesManifests.secretTemplateFile))
        let result = try await SchemaValidator.validate(files)
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains("ERROR"), "\(result.output)")
    }

    /// The trial database is one pod (a second would be a separate
    /// database) on its own claim, its password from a Secret, reachable
    /// as postgres:5432 by the five services and nothing else.
    @Test func theTrialDatabaseIsOnePostgreSQLPodOnlyTheServicesReach() throws {
        let documents = try KubernetesManifests.documents(in: KubernetesManifests.trialDatabaseFile)
        let decoder = YAMLDecoder()
        let headers = try documents.map { try decoder.decode(Kubernetes.Header.self, from: $0) }
        #expect(headers.map(\.kind).sorted() == ["NetworkPolicy", "Service", "StatefulSet"])
        func object<T: Decodable>(_ kind: String, as type: T.Type) throws -> T {
            guard let index = headers.firstIndex(where: { $0.kind == kind }) else {
                throw RepositoryError("\(KubernetesManifests.trialDatabaseFile) has no \(kind)")
            }
            return try decoder.decode(T.self, from: documents[index])
        }
        let set = try object("StatefulSet", as: Kubernetes.StatefulSet.self)
        #expect(set.spec.replicas == 1)
        #expect(set.spec.volumeClaimTemplates?.first?.spec.accessModes == ["ReadWriteOnce"])
        let container = try #require(set.spec.template.spec.containers.first)
        #expect(container.image.hasPrefix("postgres:"))
        #expect(container.env?.first { $0.name == "POSTGRES_PASSWORD" }?.valueFrom?.secretKeyRef != nil, "the password is a Secret's")
        let service = try object("Service", as: Kubernetes.Service.self)
        #expect(service.metadata.name == set.spec.serviceName)
        #expect(service.spec.ports.map(\.port) == [5432])
        let policy = try object("NetworkPolicy", as: Kubernetes.NetworkPolicy.self)
        let podLabels = set.spec.template.metadata.labels
        #expect((policy.spec.podSelector.matchLabels ?? [:]).allSatisfy { podLabels[$0.key] == $0.value })
        var admitted: Set<String> = []
        for rule in policy.spec.ingress ?? [] {
            #expect(rule.ports?.map(\.port) == [.name("postgres")])
            for peer in rule.from ?? [] {
                for name in componentNames {
                    let labels = try manifests.deployment(name).spec.template.metadata.labels
                    if (peer.podSelector?.matchLabels ?? [:]).allSatisfy({ labels[$0.key] == $0.value }) { admitted.insert(name) }
                }
            }
        }
        #expect(admitted == Set(services.map(\.name)), "the services, not the gateway: \(admitted.sorted())")
    }

    /// The addresses resolve through the ConfigMap to the Services of this
    /// folder, at the ports the upstreams serve on.
    @Test func givesEachServiceTheAddressesOfTheServicesItCalls() throws {
        for service in services {
            let environment = try manifests.environment(of: try manifests.deployment(service.name).container())
            for upstream in try CodeFacts.upstreams(of: service) {
                let target = try #require(services.first { $0.name == upstream })
                #expect(environment[Key.address(of: upstream)]?.plainValue == target.replicatedAddress, "\(service.name) -> \(upstream)")
                #expect(try manifests.service(upstream).spec.ports.map(\.port) == [target.port])
            }
        }
    }

    /// The order service places orders through the other four.
    @Test func givesTheOrderServiceTheAddressesOfUserProductInventoryAndNotification() throws {
        let environment = try manifests.environment(of: try manifests.deployment("order").container())
        for name in ["user", "product", "inventory", "notification"] {
            let target = try #require(services.first { $0.name == name })
            #expect(environment[Key.address(of: name)]?.plainValue == target.replicatedAddress)
        }
    }

    /// The gateway calls every service of its route table and checks all
    /// five in GET /health.
    @Test func givesTheGatewayTheAddressesOfAllFiveServices() throws {
        let environment = try manifests.environment(of: try manifests.deployment("gateway").container())
        #expect(CodeFacts.gatewayUpstreams.isSubset(of: Set(services.map(\.name))))
        for service in services {
            #expect(environment[Key.address(of: service.name)]?.plainValue == service.replicatedAddress, "gateway -> \(service.name)")
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

    /// Every pod runs as the image's non-root user; fsGroup lets it read
    /// its TLS Secret, mounted 0440.
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
            #expect(try manifests.deployment(service.name).spec.template.spec.securityContext?.fsGroup == uid, "\(service.name) can read its key")
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
