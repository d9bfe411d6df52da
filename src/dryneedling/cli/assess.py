"""CLI commands: assess (filled in by its issue)."""
