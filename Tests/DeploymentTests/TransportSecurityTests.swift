import Foundation
import Testing

/// The deployment side of mutual TLS: each process mounts its own
/// certificate from a Secret and is told where it is, and on Kubernetes
/// only the edges the code calls are open.
@Suite("Deployment: certificates and network policy")
struct TransportSecurityTests {
    let manifests: KubernetesManifests
    let compose: ComposeFile
    let services: [CodeFacts.Service]

    init() throws {
        manifests = try KubernetesManifests.load()
        compose = try ComposeFile.load()
        services = try CodeFacts.services()
    }

    var componentNames: [String] { services.map(\.name) + ["gateway"] }

    // MARK: Kubernetes: certificates

    /// SHOP_TLS_* point into a read-only mount of the process's own Secret
    /// `shop-tls-<name>` (tls.crt, tls.key, ca.crt: cert-manager's layout),
    /// mounted whole so that an updated Secret reaches the running pod.
    @Test func mountsEachProcessesOwnCertificateSecretAndPointsSHOPTLSIntoIt() throws {
        for name in componentNames {
            let deployment = try manifests.deployment(name)
            let container = try deployment.container()
            let environment = try manifests.environment(of: container)
            let volume = try #require(deployment.spec.template.spec.volumes?.first { $0.secret != nil }, "\(name) mounts a Secret")
            #expect(volume.secret?.secretName == "shop-tls-\(name)", "\(name) mounts its own certificate, not another's")
            let mount = try #require(container.volumeMounts?.first { $0.name == volume.name }, "\(name) mounts \(volume.name)")
            #expect(mount.readOnly == true, "\(name)")
            let files = ["SHOP_TLS_CERT": "tls.crt", "SHOP_TLS_KEY": "tls.key", "SHOP_TLS_CA": "ca.crt"]
            for (variable, file) in files {
                #expect(environment[variable]?.plainValue == "\(mount.mountPath)/\(file)", "\(name) \(variable)")
            }
        }
    }

    /// How to create those Secrets is written down next to the signing key's.
    @Test func documentsHowToCreateTheCertificateSecrets() throws {
        let template = try Repository.text(KubernetesManifests.secretTemplateFile)
        #expect(template.contains("shop certs --out"))
        #expect(template.contains("kubectl create secret generic shop-tls-$name"))
        #expect(template.contains("cert-manager"))
        #expect(manifests.secrets.isEmpty, "no certificate or key is applied from the repository")
    }

    // MARK: Kubernetes: network policy

    /// Nothing reaches a pod unless a policy lets it.
    @Test func deniesAllIngressByDefault() throws {
        let denying = manifests.networkPolicies.filter {
            ($0.spec.podSelector.matchLabels ?? [:]).isEmpty && $0.spec.policyTypes == ["Ingress"] && ($0.spec.ingress ?? []).isEmpty
        }
        #expect(denying.count == 1, "one default-deny policy selecting every pod")
    }

    /// The FrameRPC port of each service admits exactly its callers in the
    /// code: the gateway, and the order service for the four it calls.
    @Test func opensEachServicesFrameRPCPortToItsCallersOnly() throws {
        for service in services {
            let callers = try CodeFacts.callers(of: service)
            #expect(admitted(to: service.name, port: "framerpc") == callers, "\(service.name) callers")
        }
        #expect(try CodeFacts.callers(of: #require(services.first { $0.name == "user" })) == ["gateway", "order"])
    }

    /// The gateway is the public entrance: its HTTP port is open to any
    /// source (the load balancer or an ingress controller), nothing else of it.
    @Test func opensTheGatewaysHTTPPortToAnyone() {
        let rules = rules(for: "gateway")
        let open = rules.filter { $0.from == nil }
        #expect(open.count == 1)
        #expect(open.first?.ports?.map(\.port) == [.name("http")])
        #expect(admitted(to: "gateway", port: "framerpc").isEmpty)
    }

    /// Prometheus (in the monitoring namespace) scrapes every service's
    /// metrics port, which serves SHOP_METRICS_PORT.
    @Test func letsPrometheusScrapeEveryServicesMetricsPort() throws {
        for service in services {
            let container = try manifests.deployment(service.name).container()
            let metricsPort = try #require(container.ports?.first { $0.name == "metrics" }, "\(service.name) declares a metrics port")
            #expect(try manifests.environment(of: container)["SHOP_METRICS_PORT"]?.plainValue == "\(metricsPort.containerPort)")
            let fromPrometheus = rules(for: service.name).filter { rule in
                (rule.from ?? []).contains {
                    $0.namespaceSelector?.matchLabels?["kubernetes.io/metadata.name"] == "monitoring"
                        && $0.podSelector?.matchLabels?["app.kubernetes.io/name"] == "prometheus"
                }
            }
            #expect(fromPrometheus.flatMap { $0.ports ?? [] }.map(\.port) == [.name("metrics")], "\(service.name)")
        }
    }

    /// The ingress rules of every policy that selects `component`'s pods.
    func rules(for component: String) -> [Kubernetes.NetworkPolicy.Rule] {
        let labels = (try? manifests.deployment(component).spec.template.metadata.labels) ?? [:]
        return manifests.networkPolicies
            .filter { policy in (policy.spec.podSelector.matchLabels ?? [:]).allSatisfy { labels[$0.key] == $0.value } }
            .flatMap { $0.spec.ingress ?? [] }
    }

    /// The components whose pods a rule lets reach `component` on `port`.
    func admitted(to component: String, port: String) -> Set<String> {
        var admitted: Set<String> = []
        for rule in rules(for: component) where (rule.ports ?? []).contains(where: { $0.port == .name(port) }) {
            for peer in rule.from ?? [] where peer.namespaceSelector == nil {
                for name in componentNames {
                    let labels = (try? manifests.deployment(name).spec.template.metadata.labels) ?? [:]
                    if (peer.podSelector?.matchLabels ?? [:]).allSatisfy({ labels[$0.key] == $0.value }) { admitted.insert(name) }
                }
            }
        }
        return admitted
    }

    // MARK: Compose

    /// Each container gets its own certificate and key and the CA as
    /// compose secrets, and SHOP_TLS_* name where they land.
    @Test func composeMountsEachProcessesOwnCertificateAndPointsSHOPTLSAtIt() throws {
        let declared = compose.secrets ?? [:]
        for name in componentNames {
            let service = try compose.service(name)
            let mounted = Dictionary(uniqueKeysWithValues: (service.secrets ?? []).map { ($0.target, $0.source) })
            #expect(mounted["tls.crt"] == "\(name)-tls-cert", "\(name)")
            #expect(mounted["tls.key"] == "\(name)-tls-key", "\(name)")
            #expect(mounted["ca.crt"] == "shop-tls-ca", "\(name)")
            #expect(declared["\(name)-tls-cert"]?.file == "./certs/\(name).pem")
            #expect(declared["\(name)-tls-key"]?.file == "./certs/\(name).key")
            let environment = service.environment ?? [:]
            #expect(environment["SHOP_TLS_CERT"] == "/run/secrets/tls.crt", "\(name)")
            #expect(environment["SHOP_TLS_KEY"] == "/run/secrets/tls.key", "\(name)")
            #expect(environment["SHOP_TLS_CA"] == "/run/secrets/ca.crt", "\(name)")
        }
        #expect(declared["shop-tls-ca"]?.file == "./certs/ca.pem")
        #expect(declared.values.allSatisfy { !$0.file.hasSuffix("ca.key") }, "the CA key is never mounted")
    }
}
