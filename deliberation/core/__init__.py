"""Cross-cutting pieces: base model helpers, htmx rendering, errors, permissions, audit."""
