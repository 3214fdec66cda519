// Token signing and verification: see the user service issue.
