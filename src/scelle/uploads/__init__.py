"""tus 1.0 resumable uploads of transfer ciphertext (core, creation, termination,
expiration, checksum with sha256), assembled into the blob store."""
