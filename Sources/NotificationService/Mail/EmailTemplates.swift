import Mustache

/// The email's HTML (one Mustache template per event kind, on a shared
/// layout) and its plain-text part (one template for every kind), from the
/// files in `Templates/`.
///
/// The files are compiled into the binary (SwiftPM's `embedInCode`), not
/// read from a resource bundle at run time: `Bundle.module` on Linux looks
/// for `shop_NotificationService.resources` beside the executable and
/// stops the process when it is missing, which is what the container
/// image (one copied `shop` binary) would hit. Embedded, the templates go
/// wherever the binary goes.
struct EmailTemplates: Sendable {
    private let library: MustacheLibrary
    static let kinds = ["order_confirmed", "order_cancelled", "order_cancelled_out_of_stock", "order_shipped", "order_delivered"]

    /// - Throws: when a template does not parse (a bug caught by the tests).
    init() throws {
        let files: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache),
            ("text", PackageResources.text_mustache),
            ("generic", PackageResources.generic_mustache),
            ("order_confirmed", PackageResources.order_confirmed_mustache),
            ("order_cancelled", PackageResources.order_cancelled_mustache),
            ("order_cancelled_out_of_stock", PackageResources.order_cancelled_out_of_stock_mustache),
            ("order_shipped", PackageResources.order_shipped_mustache),
            ("order_delivered", PackageResources.order_delivered_mustache),
        ]
        var library = MustacheLibrary()
        for (name, bytes) in files {
            try library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    /// The HTML part for `kind` (the generic template for a kind without
    /// its own, or one missing its order id); values are HTML-escaped.
    func html(kind: String, context: [String: String]) -> String {
        let name = Self.kinds.contains(kind) && context["order_id"] != nil ? kind : "generic"
        return library.render(context as [String: Any], withTemplate: name) ?? ""
    }

    /// The plain-text part.
    func text(context: [String: String]) -> String {
        library.render(context as [String: Any], withTemplate: "text") ?? ""
    }
}
