"""Accounts and access: passwords, sessions, API tokens, roles, CSRF, throttling."""
