"""dryneedling: evidence-based dry needling decision support for physical therapists."""

__version__ = "0.1.0"
