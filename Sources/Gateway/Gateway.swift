// The HTTP front door: see the gateway issue.
