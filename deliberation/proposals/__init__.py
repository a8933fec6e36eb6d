"""Funding rounds and micro-project proposals: from a resident's idea to a delivered, rated project."""
