"""CLI: dryneedling evidence table (filled in by the evidence-table work)."""
