"""Fixtures shared by every area of the test suite."""

from __future__ import annotations

import contextlib
import os

import pytest
import textstat
import textstat.backend.counts._count_syllables as syllable_counter
from hypothesis import settings

from live import CSP_LISTENER
from shipped import shipped_catalog

# Property tests explore the same examples on every run and machine: a red CI must mean a change broke
# something, not that a new random draw found an old corner. Set HYPOTHESIS_PROFILE=explore to search anew.
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

# The command line keeps a validated-catalog cache in the user's cache directory; tests run without it
# (and write nothing to the home directory) unless they point DRYNEEDLING_CACHE_DIR somewhere themselves.
os.environ["DRYNEEDLING_CACHE_DIR"] = "off"


@pytest.fixture
def reading_grade(monkeypatch):
    """Flesch-Kincaid grade of a text, measured by textstat without network access.

    textstat looks syllables up in NLTK's cmudict, which it would download on first use; CI has no
    network for that, so the lookup is switched off and textstat falls back to its own Pyphen
    hyphenation counts for every word.
    """
    monkeypatch.setattr(syllable_counter, "get_cmudict", lambda lang: None)
    return textstat.flesch_kincaid_grade


@pytest.fixture(scope="session", autouse=True)
def _records_outside_the_checkout(tmp_path_factory):
    """An app opened without a records store makes its SQLite file in DRYNEEDLING_DATA_DIR (default: the
    working directory); tests keep it in a temporary directory instead of the checkout."""
    if "DRYNEEDLING_DATABASE_URL" not in os.environ and "DRYNEEDLING_DATA_DIR" not in os.environ:
        os.environ["DRYNEEDLING_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    yield


@pytest.fixture(scope="session")
def catalog():
    """The shipped catalog, built once for the whole run (it is read-only)."""

    return shipped_catalog()


def pytest_collection_modifyitems(config, items):
    """Browser tests are skipped, with a message, where Debian's Chromium is not installed."""
    from live import CHROMIUM

    if CHROMIUM:
        return
    skip = pytest.mark.skip(
        reason="browser test: Chromium not found (apt-get install --no-install-recommends chromium)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium (Playwright's own browsers cannot be downloaded here)."""
    from live import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _no_csp_violation(request):
    """Every browser test also asserts that no page broke the Content-Security-Policy (issue 12.5):
    a violation event or a console error about the policy fails the test at teardown."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    reported: list[str] = []
    page.add_init_script(CSP_LISTENER)
    page.on(
        "console",
        lambda message: reported.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield
    with contextlib.suppress(Exception):  # a closed page: the console messages are kept either way
        reported.extend(page.evaluate("window.__cspViolations || []"))
    assert not reported, f"Content-Security-Policy violations: {reported}"
