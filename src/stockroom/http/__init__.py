"""The HTTP edge: how the service answers (errors, headers)."""
