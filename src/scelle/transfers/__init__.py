"""Transfers: lifecycle (create, seal, download, purge), policies (expiry, download limit)."""
