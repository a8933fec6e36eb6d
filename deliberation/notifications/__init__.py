"""Notifications: an in-app inbox, and e-mail and SMS delivered from a transactional outbox."""
