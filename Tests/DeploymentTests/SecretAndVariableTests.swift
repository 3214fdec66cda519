import Foundation
import Gateway
import ShopAuth
import Testing

/// Rules over all the deployment files at once: no usable secret in the
/// repository, nothing that switches a safety off, and no `SHOP_*` name the
/// code does not read.
@Suite("Deployment secrets and variables")
struct SecretAndVariableTests {
    let files: [String]

    init() throws {
        files = try Repository.allDeploymentFiles()
    }

    /// A name in a deployment file (a value, a key, even a comment) that no
    /// code reads is a typo or a leftover: the setting it means is not set.
    @Test func mentionsOnlyVariablesTheCodeReads() throws {
        let read = try CodeFacts.variablesReadAnywhere()
        for file in files {
            let unknown = try Repository.text(file).shopVariableNames.subtracting(read)
            #expect(unknown.isEmpty, "\(file): \(unknown.sorted())")
        }
    }

    /// The names the checks rely on are still read by the code.
    @Test func theSecretVariablesAreOnesTheCodeReads() throws {
        #expect(CodeFacts.secretVariables.isSubset(of: try CodeFacts.variablesReadAnywhere()))
    }

    /// Dev mode accepts the public development key; the test-only switch
    /// allows weak password hashes. Neither belongs in a deployment.
    @Test func setsNoDevelopmentOrTestOnlyVariable() throws {
        let forbidden = try CodeFacts.forbiddenVariables()
        for file in files {
            let found = try Repository.text(file).shopVariableNames.intersection(forbidden)
            #expect(found.isEmpty, "\(file): \(found.sorted())")
        }
    }

    /// The development key and admin password are public (they are in the
    /// source); a deployment using them could be forged into.
    @Test func containsNoneOfTheDevelopmentSecrets() throws {
        for file in files {
            let text = try Repository.text(file)
            #expect(!text.contains(DevelopmentSecrets.signingKey), "\(file)")
            #expect(!text.contains(DevelopmentSecrets.adminPassword), "\(file)")
        }
    }

    /// In compose.yaml a secret is `${NAME:?...}` (required) or `${NAME:-}`
    /// (empty means unset), never a value written in the file.
    @Test func composeTakesEverySecretFromTheEnvironment() throws {
        let compose = try ComposeFile.load()
        for (name, service) in compose.services {
            for (variable, value) in service.environment ?? [:] where CodeFacts.secretVariables.contains(variable) {
                let required = value.wholeMatch(of: /\$\{([A-Z0-9_]+):\?[^}]+\}/)
                let emptyDefault = value.wholeMatch(of: /\$\{([A-Z0-9_]+):-\}/)
                #expect(required != nil || emptyDefault != nil, "\(name): \(variable) is a literal")
                #expect(required.map { String($0.output.1) } ?? emptyDefault.map { String($0.output.1) } == variable, "\(name): \(variable) comes from the same-named variable")
            }
        }
    }

    /// In Kubernetes a secret comes from a Secret, never a literal or a ConfigMap.
    @Test func kubernetesTakesEverySecretFromASecret() throws {
        let manifests = try KubernetesManifests.load()
        for deployment in manifests.deployments {
            let environment = try manifests.environment(of: try deployment.container())
            for (variable, value) in environment where CodeFacts.secretVariables.contains(variable) {
                guard case .secret = value else {
                    Issue.record("\(deployment.metadata.name): \(variable) is not from a Secret")
                    continue
                }
            }
        }
    }

    /// The template's placeholder must not work as a key if someone applies
    /// the file unchanged: shorter than the minimum, the user service and
    /// the gateway refuse it at start.
    @Test func theSecretTemplatesSigningKeyIsTooShortToBeAccepted() throws {
        let templates = try KubernetesManifests.secretTemplates()
        try #require(!templates.isEmpty)
        for secret in templates {
            #expect(secret.data == nil, "\(secret.metadata.name): placeholders in stringData only, nothing encoded")
            for (key, value) in secret.stringData ?? [:] {
                #expect(value.utf8.count < CodeFacts.minimumSigningKeyBytes, "\(secret.metadata.name)/\(key) is long enough to be a usable key")
                #expect(value.uppercased().contains("REPLACE"), "\(secret.metadata.name)/\(key) is plainly a placeholder")
            }
        }
    }

    /// Anything that looks like a signing key (a run of 32 or more base64
    /// or hex characters, letters and digits mixed) in a deployment file
    /// would be one committed by mistake.
    @Test func containsNoKeyLikeLiteral() throws {
        for file in files {
            let text = try Repository.text(file)
            let candidates = text.matches(of: /[A-Za-z0-9+\/=_-]{32,}/).map { String($0.output) }
                .filter { $0.contains(where: \.isNumber) && $0.contains(where: \.isLetter) }
            #expect(candidates.isEmpty, "\(file): \(candidates)")
        }
    }
}
