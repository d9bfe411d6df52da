"""Request dependencies: the catalog the app was started with."""

from __future__ import annotations

from fastapi import Request

from dryneedling.catalog import Catalog


async def get_catalog(request: Request) -> Catalog:
    """The one catalog built at start-up (``create_app``), shared read-only by every request (``async``: no
    I/O, so FastAPI need not hand it to the thread pool)."""
    return request.app.state.catalog
