// The user service's contract tests live here.
