import Foundation
import Yams

/// The few Kubernetes object shapes the manifests use, decoded with Yams:
/// only the fields the tests check, under the API's own field names.
enum Kubernetes {
    struct ObjectMeta: Decodable {
        var name: String
        var namespace: String?
        var labels: [String: String]?
    }

    /// What every object has: enough to decide how to decode the rest.
    struct Header: Decodable {
        var apiVersion: String
        var kind: String
        var metadata: ObjectMeta
    }

    struct Deployment: Decodable {
        struct Spec: Decodable {
            var replicas: Int?
            var strategy: Strategy?
            var selector: LabelSelector
            var template: PodTemplate
        }
        struct Strategy: Decodable {
            struct RollingUpdate: Decodable {
                var maxUnavailable: PortReference?
                var maxSurge: PortReference?
            }
            var type: String?
            var rollingUpdate: RollingUpdate?
        }
        struct LabelSelector: Decodable { var matchLabels: [String: String] }
        struct PodTemplate: Decodable {
            struct Meta: Decodable { var labels: [String: String] }
            var metadata: Meta
            var spec: PodSpec
        }

        var metadata: ObjectMeta
        var spec: Spec

        /// The first (in these manifests, the only) container.
        func container() throws -> Container {
            guard let container = spec.template.spec.containers.first else {
                throw RepositoryError("Deployment \(metadata.name) has no container")
            }
            return container
        }
    }

    struct PodSpec: Decodable {
        struct SecurityContext: Decodable {
            var runAsNonRoot: Bool?
            var runAsUser: Int?
            var runAsGroup: Int?
            var fsGroup: Int?
        }
        struct Volume: Decodable {
            struct ClaimSource: Decodable { var claimName: String }
            struct SecretSource: Decodable { var secretName: String }
            var name: String
            var persistentVolumeClaim: ClaimSource?
            var secret: SecretSource?
        }
        struct TopologySpread: Decodable {
            struct Selector: Decodable { var matchLabels: [String: String]? }
            var maxSkew: Int
            var topologyKey: String
            var whenUnsatisfiable: String
            var labelSelector: Selector?
        }
        var securityContext: SecurityContext?
        var containers: [Container]
        var volumes: [Volume]?
        var topologySpreadConstraints: [TopologySpread]?
    }

    struct Container: Decodable {
        struct Port: Decodable {
            var name: String?
            var containerPort: Int
        }
        struct EnvVar: Decodable {
            struct Source: Decodable {
                var configMapKeyRef: KeySelector?
                var secretKeyRef: KeySelector?
            }
            var name: String
            var value: String?
            var valueFrom: Source?
        }
        struct KeySelector: Decodable, Hashable {
            var name: String
            var key: String
        }
        struct Probe: Decodable {
            struct Exec: Decodable { var command: [String] }
            struct HTTPGet: Decodable {
                var path: String
                var port: PortReference
            }
            var exec: Exec?
            var httpGet: HTTPGet?
        }
        struct Resources: Decodable {
            var requests: [String: String]?
            var limits: [String: String]?
        }
        struct VolumeMount: Decodable {
            var name: String
            var mountPath: String
            var readOnly: Bool?
        }
        struct SecurityContext: Decodable {
            var allowPrivilegeEscalation: Bool?
            var readOnlyRootFilesystem: Bool?
        }

        var name: String
        var image: String
        var command: [String]?
        var args: [String]?
        var ports: [Port]?
        var env: [EnvVar]?
        var readinessProbe: Probe?
        var livenessProbe: Probe?
        var startupProbe: Probe?
        var resources: Resources?
        var volumeMounts: [VolumeMount]?
        var securityContext: SecurityContext?

        /// The port number a probe or Service names: a number, or the name
        /// of one of this container's ports.
        func resolve(_ reference: PortReference) -> Int? {
            switch reference {
            case .number(let number): number
            case .name(let name): ports?.first { $0.name == name }?.containerPort
            }
        }
    }

    /// A port given by number or by a container port's name.
    enum PortReference: Decodable, Equatable {
        case number(Int)
        case name(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                self = .number(number)
            } else {
                self = .name(try container.decode(String.self))
            }
        }
    }

    struct Service: Decodable {
        struct Spec: Decodable {
            var type: String?
            var clusterIP: String?
            var selector: [String: String]
            var ports: [Port]
        }
        struct Port: Decodable {
            var name: String?
            var port: Int
            var targetPort: PortReference?
        }
        var metadata: ObjectMeta
        var spec: Spec
    }

    struct PersistentVolumeClaim: Decodable {
        struct Spec: Decodable { var accessModes: [String] }
        var metadata: ObjectMeta
        var spec: Spec
    }

    struct PodDisruptionBudget: Decodable {
        struct Spec: Decodable {
            var minAvailable: PortReference?
            var maxUnavailable: PortReference?
            var selector: Deployment.LabelSelector
        }
        var metadata: ObjectMeta
        var spec: Spec
    }

    struct HorizontalPodAutoscaler: Decodable {
        struct Spec: Decodable {
            struct Target: Decodable {
                var apiVersion: String
                var kind: String
                var name: String
            }
            var scaleTargetRef: Target
            var minReplicas: Int?
            var maxReplicas: Int
        }
        var metadata: ObjectMeta
        var spec: Spec
    }

    struct StatefulSet: Decodable {
        struct Spec: Decodable {
            struct ClaimTemplate: Decodable {
                var spec: PersistentVolumeClaim.Spec
            }
            var replicas: Int?
            var serviceName: String
            var template: Deployment.PodTemplate
            var volumeClaimTemplates: [ClaimTemplate]?
        }
        var metadata: ObjectMeta
        var spec: Spec
    }

    struct ConfigMap: Decodable {
        var metadata: ObjectMeta
        var data: [String: String]
    }

    struct Secret: Decodable {
        var metadata: ObjectMeta
        var stringData: [String: String]?
        var data: [String: String]?
    }

    struct NetworkPolicy: Decodable {
        struct Spec: Decodable {
            var podSelector: LabelSelector
            var policyTypes: [String]?
            var ingress: [Rule]?
        }
        struct LabelSelector: Decodable { var matchLabels: [String: String]? }
        struct Rule: Decodable {
            var from: [Peer]?
            var ports: [Port]?
        }
        struct Peer: Decodable {
            var podSelector: LabelSelector?
            var namespaceSelector: LabelSelector?
        }
        struct Port: Decodable { var port: PortReference }
        var metadata: ObjectMeta
        var spec: Spec
    }

    struct Kustomization: Decodable {
        struct Image: Decodable {
            var name: String
            var newName: String?
            var newTag: String?
        }
        var resources: [String]
        var images: [Image]?
    }
}

/// Everything `kubectl apply -k deploy/kubernetes` would apply, decoded.
struct KubernetesManifests {
    static let folder = "deploy/kubernetes"
    static let kustomizationFile = "\(folder)/kustomization.yaml"
    /// The Secret template: documented, deliberately not applied.
    static let secretTemplateFile = "\(folder)/secret.example.yaml"
    /// The single-pod PostgreSQL for trials: applied on its own, never by
    /// the kustomization.
    static let trialDatabaseFile = "\(folder)/trial/postgres.yaml"

    let kustomization: Kubernetes.Kustomization
    /// Every object of every listed file, with the file it came from.
    let objects: [(file: String, header: Kubernetes.Header)]
    let namespaces: [Kubernetes.Header]
    let deployments: [Kubernetes.Deployment]
    let services: [Kubernetes.Service]
    let claims: [Kubernetes.PersistentVolumeClaim]
    let configMaps: [Kubernetes.ConfigMap]
    let secrets: [Kubernetes.Secret]
    let networkPolicies: [Kubernetes.NetworkPolicy]
    let disruptionBudgets: [Kubernetes.PodDisruptionBudget]
    let autoscalers: [Kubernetes.HorizontalPodAutoscaler]

    /// The kinds these manifests are made of; anything else is a mistake.
    /// (No PersistentVolumeClaim or StatefulSet: the services keep nothing.)
    static let knownKinds: Set<String> = ["Namespace", "ConfigMap", "Secret", "Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler"]

    static func load() throws -> KubernetesManifests {
        let kustomization = try YAMLDecoder().decode(Kubernetes.Kustomization.self, from: Repository.text(kustomizationFile))
        var objects: [(file: String, header: Kubernetes.Header)] = []
        var namespaces: [Kubernetes.Header] = []
        var deployments: [Kubernetes.Deployment] = []
        var services: [Kubernetes.Service] = []
        var claims: [Kubernetes.PersistentVolumeClaim] = []
        var configMaps: [Kubernetes.ConfigMap] = []
        var secrets: [Kubernetes.Secret] = []
        var networkPolicies: [Kubernetes.NetworkPolicy] = []
        var disruptionBudgets: [Kubernetes.PodDisruptionBudget] = []
        var autoscalers: [Kubernetes.HorizontalPodAutoscaler] = []
        for resource in kustomization.resources {
            let file = "\(folder)/\(resource)"
            for node in try documents(in: file) {
                let decoder = YAMLDecoder()
                let header = try decoder.decode(Kubernetes.Header.self, from: node)
                objects.append((file, header))
                switch header.kind {
                case "Namespace": namespaces.append(header)
                case "Deployment": deployments.append(try decoder.decode(from: node))
                case "Service": services.append(try decoder.decode(from: node))
                case "PersistentVolumeClaim": claims.append(try decoder.decode(from: node))
                case "ConfigMap": configMaps.append(try decoder.decode(from: node))
                case "Secret": secrets.append(try decoder.decode(from: node))
                case "NetworkPolicy": networkPolicies.append(try decoder.decode(from: node))
                case "PodDisruptionBudget": disruptionBudgets.append(try decoder.decode(from: node))
                case "HorizontalPodAutoscaler": autoscalers.append(try decoder.decode(from: node))
                default: throw RepositoryError("\(file): unexpected kind \(header.kind)")
                }
            }
        }
        return KubernetesManifests(
            kustomization: kustomization, objects: objects, namespaces: namespaces, deployments: deployments,
            services: services, claims: claims, configMaps: configMaps, secrets: secrets,
            networkPolicies: networkPolicies, disruptionBudgets: disruptionBudgets, autoscalers: autoscalers
        )
    }

    /// The YAML documents of a file (`---` separated), parsed.
    static func documents(in file: String) throws -> [Node] {
        Array(try Yams.compose_all(yaml: Repository.text(file)))
    }

    /// The Secrets of the template file.
    static func secretTemplates() throws -> [Kubernetes.Secret] {
        try documents(in: secretTemplateFile).map { try YAMLDecoder().decode(Kubernetes.Secret.self, from: $0) }
    }

    func deployment(_ name: String) throws -> Kubernetes.Deployment {
        guard let deployment = deployments.first(where: { $0.metadata.name == name }) else {
            throw RepositoryError("no Deployment '\(name)' in \(Self.folder)")
        }
        return deployment
    }

    func service(_ name: String) throws -> Kubernetes.Service {
        guard let service = services.first(where: { $0.metadata.name == name }) else {
            throw RepositoryError("no Service '\(name)' in \(Self.folder)")
        }
        return service
    }

    /// A container's variables with ConfigMap references replaced by their
    /// values; a Secret reference is kept as a reference (its value is not
    /// in the repository), a dangling ConfigMap reference is an error.
    func environment(of container: Kubernetes.Container) throws -> [String: EnvironmentValue] {
        var result: [String: EnvironmentValue] = [:]
        for variable in container.env ?? [] {
            if let value = variable.value {
                result[variable.name] = .literal(value)
            } else if let reference = variable.valueFrom?.configMapKeyRef {
                guard let map = configMaps.first(where: { $0.metadata.name == reference.name }),
                      let value = map.data[reference.key]
                else {
                    throw RepositoryError("\(container.name): \(variable.name) refers to \(reference.name)/\(reference.key), which is not in the ConfigMaps")
                }
                result[variable.name] = .configMap(value)
            } else if let reference = variable.valueFrom?.secretKeyRef {
                result[variable.name] = .secret(reference)
            } else {
                throw RepositoryError("\(container.name): \(variable.name) has neither a value nor a reference")
            }
        }
        return result
    }

    enum EnvironmentValue: Equatable {
        case literal(String)
        case configMap(String)
        case secret(Kubernetes.Container.KeySelector)

        /// The value when it is in the repository (a literal or from a ConfigMap).
        var plainValue: String? {
            switch self {
            case .literal(let value), .configMap(let value): value
            case .secret: nil
            }
        }
    }
}
