import SwiftProtobufPluginLibrary

/// The OpenAPI document's `info`: from the one file that declares
/// `(shop.api.api_info)`, else from the generator's `Title` and `Version`
/// options.
struct APIInfo: Equatable {
    var title: String
    var version: String
    var description = ""
    var contactName = ""
    var contactURL = ""
    var contactEmail = ""
}

extension ModelBuilder {
    /// The API's info; records an error when two files declare it, or when
    /// neither a file nor the options give a title and a version.
    mutating func apiInfo(in files: [FileDescriptor], options: GeneratorOptions) -> APIInfo? {
        let declaring = files.filter { $0.options.hasShop_Api_apiInfo }
        if declaring.count > 1 {
            for file in declaring.dropFirst() {
                fail(file.name, "api_info", "declared again (first in \(declaring[0].name)); declare it in one file")
            }
        }
        if let file = declaring.first {
            let declared = file.options.Shop_Api_apiInfo
            if declared.title.isEmpty || declared.version.isEmpty {
                fail(file.name, "api_info", "needs a title and a version")
            }
            return APIInfo(
                title: declared.title,
                version: declared.version,
                description: declared.description_p,
                contactName: declared.contactName,
                contactURL: declared.contactURL,
                contactEmail: declared.contactEmail
            )
        }
        guard let title = options.title else {
            fail("(options)", "Title", "no file declares (shop.api.api_info) and no Title option is given")
            return nil
        }
        return APIInfo(title: title, version: options.version ?? "1.0.0")
    }
}
