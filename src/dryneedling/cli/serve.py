"""CLI commands: serve (filled in by its issue)."""
