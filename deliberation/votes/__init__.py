"""Resident ballots: secret, verifiable, counted once, with paper ballots keyed twice."""
