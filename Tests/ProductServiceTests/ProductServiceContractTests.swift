// The product service's contract tests live here.
