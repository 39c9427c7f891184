"""Ciphertext storage behind the ``BlobStore`` protocol (local folder by default)."""
