"""Accounts: registration, login, password, language and text-size preferences."""
