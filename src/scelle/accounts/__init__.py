"""Accounts: organisations, users, roles, passwords, second factors and API tokens."""
