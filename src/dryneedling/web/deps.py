"""Request dependencies: the catalog the app was started with."""

from __future__ import annotations

from fastapi import Request

from dryneedling.catalog import Catalog


def get_catalog(request: Request) -> Catalog:
    """The one catalog built at start-up (``create_app``), shared read-only by every request."""
    return request.app.state.catalog
