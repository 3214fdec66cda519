// The order service's contract tests live here.
