"""CLI commands: knowledge (filled in by its issue)."""
