"""Audit log: every security-relevant event, with pseudonymous ids and digests only."""
