// The notification service's contract tests live here.
