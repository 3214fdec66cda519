import FrameRPCCodeGen
import Testing

/// Each input in `Inputs/bad/` is valid protobuf, wrong only in its
/// `(shop.api.*)` options; the generator must refuse it and say, by file and
/// `Service.Method`, what is wrong.
@Suite("Bad annotations")
struct BadAnnotationTests {
    /// The errors generating `Inputs/bad/<name>.proto` throws.
    private func errors(generating name: String) throws -> [CodeGenError] {
        let input = try CompiledInput("bad/\(name)", proto: "bad/\(name).proto")
        var options = GeneratorOptions()
        options.routeTable = "BadRoutes"
        options.openAPIFile = "openapi.json"
        options.title = "bad"
        let thrown = try #require(throws: CodeGenErrors.self) {
            try input.generate(options)
        }
        return thrown.errors
    }

    private func describe(_ errors: [CodeGenError]) -> String {
        errors.isEmpty ? "(no errors)" : errors.map(\.description).joined(separator: "\n")
    }

    /// Records an issue unless `errors` is exactly one error, on `element` of
    /// `bad/<name>.proto`, whose problem contains every one of `phrases`.
    private func expectOnlyError(
        _ errors: [CodeGenError],
        in name: String,
        element: String,
        naming phrases: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(errors.count == 1, "expected one error, got:\n\(describe(errors))", sourceLocation: sourceLocation)
        let matching = errors.filter { error in
            error.file == "bad/\(name).proto" && error.element == element && phrases.allSatisfy { error.problem.contains($0) }
        }
        #expect(
            !matching.isEmpty,
            "no error on bad/\(name).proto \(element) naming \(phrases); got:\n\(describe(errors))",
            sourceLocation: sourceLocation
        )
    }

    @Test func pathVariableThatIsNotARequestFieldIsRejected() throws {
        let errors = try errors(generating: "path_variable_not_a_field")
        expectOnlyError(
            errors, in: "path_variable_not_a_field", element: "Items.GetItem",
            naming: ["path variable '{isbn}'", "is not a field of bad.pathvariable.GetItemRequest"]
        )
    }

    @Test func mapCarriedByARouteIsRejectedNamingTheField() throws {
        let errors = try errors(generating: "map_on_route")
        expectOnlyError(
            errors, in: "map_on_route", element: "bad.maponroute.Item.labels",
            naming: ["maps cannot be carried by a REST route"]
        )
    }

    @Test func bodyFieldThatDoesNotExistIsRejected() throws {
        let errors = try errors(generating: "body_field_missing")
        expectOnlyError(
            errors, in: "body_field_missing", element: "Items.CreateItem",
            naming: ["body field 'payload'", "is not a field of bad.bodyfield.CreateItemRequest"]
        )
    }

    @Test func routeDeclaredTwiceIsRejectedOnTheSecondMethod() throws {
        let errors = try errors(generating: "route_declared_twice")
        expectOnlyError(
            errors, in: "route_declared_twice", element: "Items.FetchItem",
            naming: ["GET /api/items/{id}", "declared twice", "Items.GetItem"]
        )
    }

    @Test func sameVerbAndPathWithDifferentVariableNamesIsRejected() throws {
        let errors = try errors(generating: "route_shape_clash")
        expectOnlyError(
            errors, in: "route_shape_clash", element: "Items.FindItem",
            naming: ["GET /x/{name}", "same verb and path", "/x/{id}", "Items.GetItem"]
        )
    }

    @Test func serverStreamingMethodOnANonGetVerbIsRejected() throws {
        let errors = try errors(generating: "streaming_not_get")
        expectOnlyError(
            errors, in: "streaming_not_get", element: "Items.WatchItem",
            naming: ["server-streaming", "only be a GET"]
        )
    }

    @Test func getRouteWithABodyIsRejected() throws {
        let errors = try errors(generating: "get_with_body")
        expectOnlyError(
            errors, in: "get_with_body", element: "Items.SearchItems",
            naming: ["GET route cannot take a body"]
        )
    }

    @Test func successStatusOutside2xxIsRejected() throws {
        let errors = try errors(generating: "bad_success_status")
        expectOnlyError(
            errors, in: "bad_success_status", element: "Items.DeleteItem",
            naming: ["success_status 404", "not a 2xx status"]
        )
    }

    @Test func ownerFieldThatIsNotARequestFieldIsRejected() throws {
        let errors = try errors(generating: "owner_field_missing")
        expectOnlyError(
            errors, in: "owner_field_missing", element: "Items.RenameItem",
            naming: ["owner_field 'user_id'", "is not a field of bad.owner.RenameItemRequest"]
        )
    }

    @Test func fieldExampleThatDoesNotFitItsTypeIsRejected() throws {
        let errors = try errors(generating: "example_wrong_type")
        expectOnlyError(
            errors, in: "example_wrong_type", element: "Thing.name",
            naming: ["example '42'", "must be a JSON string"]
        )
    }

    @Test func methodExampleThatIsNotJSONIsRejected() throws {
        let errors = try errors(generating: "example_not_json")
        expectOnlyError(
            errors, in: "example_not_json", element: "Things.PutThing",
            naming: ["request_example", "not valid JSON"]
        )
    }

    @Test func errorsFromSeveralMethodsAreAllReportedInOneRun() throws {
        let errors = try errors(generating: "several_errors")
        let file = "bad/several_errors.proto"
        #expect(errors.allSatisfy { $0.file == file }, "\(describe(errors))")
        #expect(errors.map(\.element) == ["Items.GetItem", "Items.UpdateItem", "Items.DeleteItem"], "\(describe(errors))")
        #expect(errors.contains { $0.element == "Items.GetItem" && $0.problem.contains("path variable '{sku}'") })
        #expect(errors.contains { $0.element == "Items.UpdateItem" && $0.problem.contains("body field 'item'") })
        #expect(errors.contains { $0.element == "Items.DeleteItem" && $0.problem.contains("success_status 500") })
    }

    // MARK: Call policies

    @Test func policyCallerThatIsNotAServiceNameIsRejected() throws {
        let errors = try errors(generating: "policy_caller_not_a_name")
        expectOnlyError(
            errors, in: "policy_caller_not_a_name", element: "Items.GetItem",
            naming: ["policy caller 'Order'", "is not a service name", "[a-z][a-z0-9-]*"]
        )
    }

    @Test func policyWithoutCallersIsRejected() throws {
        let errors = try errors(generating: "policy_without_callers")
        expectOnlyError(
            errors, in: "policy_without_callers", element: "Items.GetItem",
            naming: ["policy lists no callers"]
        )
    }

    @Test func serviceDefaultPolicyWithoutCallersIsRejectedOnTheService() throws {
        let errors = try errors(generating: "default_policy_without_callers")
        expectOnlyError(
            errors, in: "default_policy_without_callers", element: "Items",
            naming: ["default_policy lists no callers"]
        )
    }

    @Test func methodLeftWithoutAPolicyInAServiceThatDeclaresThemIsRejected() throws {
        let errors = try errors(generating: "policy_method_uncovered")
        expectOnlyError(
            errors, in: "policy_method_uncovered", element: "Items.DeleteItem",
            naming: ["has no call policy", "(shop.api.policy)", "(shop.api.default_policy)"]
        )
    }

    // MARK: Field rules

    @Test func ruleOnAFieldOfTheWrongTypeIsRejectedNamingFileMessageAndField() throws {
        let errors = try errors(generating: "rule_wrong_type")
        expectOnlyError(
            errors, in: "rule_wrong_type", element: "Thing.count",
            naming: ["rule max_length does not apply to a int32 field", "string fields"]
        )
    }

    @Test func ruleThatTheAbsentValueBreaksOnANonRequiredFieldIsRejected() throws {
        let errors = try errors(generating: "rule_breaks_absent_value")
        expectOnlyError(
            errors, in: "rule_breaks_absent_value", element: "Thing.owner_id",
            naming: ["rule format refuses the field's zero value", "mark it required"]
        )
    }

    @Test func patternThatDoesNotCompileIsRejected() throws {
        let errors = try errors(generating: "rule_bad_pattern")
        expectOnlyError(
            errors, in: "rule_bad_pattern", element: "Thing.code",
            naming: ["pattern '([a-z' is not a valid regular expression"]
        )
    }

    @Test func reversedBoundsAndItemRulesOnASingleFieldAreBothReported() throws {
        let errors = try errors(generating: "rule_bounds_reversed")
        let problems = errors.map { "\($0.element): \($0.problem)" }
        #expect(errors.count == 2, "got:\n\(describe(errors))")
        #expect(problems.contains { $0.hasPrefix("Thing.count: minimum 10 is above maximum 1") }, "got:\n\(describe(errors))")
        #expect(problems.contains { $0.hasPrefix("Thing.name: rule max_items does not apply to a string field") }, "got:\n\(describe(errors))")
    }
}
