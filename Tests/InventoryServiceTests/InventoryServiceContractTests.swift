// The inventory service's contract tests live here.
