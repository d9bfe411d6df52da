"""The names the evidence engine accepts (effect measures, tau^2 estimators, tests), importable without numpy.

The CLI prints them in its help; keeping them here lets ``dryneedling --help`` start without the numerics.
"""

from __future__ import annotations

MEASURES: tuple[str, ...] = ("MD", "SMD", "ROM", "RR", "OR", "RD", "ZCOR", "PLO", "PR")
METHODS: tuple[str, ...] = ("EE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS")
TESTS: tuple[str, ...] = ("z", "knha")
