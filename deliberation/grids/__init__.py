"""Resident requests through micro-grids (接诉即办 · 微网实格)."""
