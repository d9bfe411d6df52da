"""CLI: dryneedling evidence pool (filled in by the evidence-engine work)."""
