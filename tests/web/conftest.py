"""Fixtures for the web tests: an in-process client, a live uvicorn server and system Chromium.

Browser tests (``@pytest.mark.browser``) drive Debian's Chromium through pytest-playwright; Playwright's
own browser download is unreachable here. Without Chromium they are skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dryneedling.web.app import app
from live import serve

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    """The app in-process (no network)."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The app under a real uvicorn on a free 127.0.0.1 port, in a background thread; yields its URL."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where browser tests save their screenshots (printed so a person can look at them)."""
    path = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {path}")
    return path
