"""Residents' councils (议事会): terms, members and their rules."""
