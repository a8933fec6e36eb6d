"""Messages that reach people off the site (SMS gateway)."""
