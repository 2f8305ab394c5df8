"""Organisations, accounts, sessions, API tokens and sign-in throttling."""
