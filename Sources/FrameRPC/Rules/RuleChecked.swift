/// A message with generated `(shop.api.rules)` checks. The generator makes
/// every message with rules (or with a nested message that has some)
/// conform; the generated handler registration and the gateway's route
/// table call it before anything else sees the request.
public protocol RuleChecked {
    /// Appends a violation for every broken rule of this message and of its
    /// nested messages, each field path starting with `path` (empty at the
    /// top, `items[0].` below).
    func collectRuleViolations(at path: String, into violations: inout [FieldViolation])
}

extension RuleChecked {
    /// Every broken rule, in field order.
    public func ruleViolations() -> [FieldViolation] {
        var violations: [FieldViolation] = []
        collectRuleViolations(at: "", into: &violations)
        return violations
    }

    /// For the gateway: throws every broken rule at once.
    public func checkRules() throws(RuleViolations) {
        let violations = ruleViolations()
        if !violations.isEmpty { throw RuleViolations(violations) }
    }

    /// For a service's registration: INVALID_ARGUMENT naming each field
    /// path and rule.
    public func checkRulesForCall() throws(RPCError) {
        let violations = ruleViolations()
        if !violations.isEmpty { throw RuleViolations(violations).rpcError }
    }
}
