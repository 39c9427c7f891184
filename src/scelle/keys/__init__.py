"""Public-key directory: each user's age recipient and Ed25519 signing key, with fingerprints."""
