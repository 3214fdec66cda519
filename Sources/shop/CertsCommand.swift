import ArgumentParser
import Foundation
import ShopCertificates

struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Write a CA and a certificate for each of the six processes (gateway and the five services).",
        discussion: """
        Writes DIR/ca.pem, DIR/ca.key and DIR/<name>.pem, DIR/<name>.key for \
        gateway, user, product, inventory, order and notification. Each \
        certificate names its process as the URI SAN \
        spiffe://shop.local/service/<name>. If DIR already holds ca.pem and \
        ca.key, that CA is kept and only the six certificates are renewed \
        (rotation without a new trust root). Give each process its own \
        <name>.pem, <name>.key and ca.pem (SHOP_TLS_CERT, SHOP_TLS_KEY, \
        SHOP_TLS_CA); keep ca.key away from the services.
        """
    )

    @Option(help: "The folder to write.")
    var out: String

    @Option(help: "How many days the six certificates are valid.")
    var days: Int = 90

    mutating func validate() throws {
        guard (1...3650).contains(days) else { throw ValidationError("--days must be between 1 and 3650") }
    }

    func run() async throws {
        let certificates = ServiceCertificates(directory: URL(fileURLWithPath: out).standardizedFileURL.path)
        do {
            let madeCA = try certificates.create(validity: TimeInterval(days) * 86_400)
            print("\(madeCA ? "new CA" : "kept the CA") \(certificates.caCertificatePath); certificates for \(ServiceCertificates.services.joined(separator: ", ")) in \(certificates.directory), valid \(days) days")
        } catch {
            throw ValidationError("cannot write certificates to \(certificates.directory): \(error)")
        }
    }
}
