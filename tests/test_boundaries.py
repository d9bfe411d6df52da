"""The house rules: the domain core stays pure, services import no shell, only `db` imports SQLAlchemy."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dryneedling"
CORE = ["knowledge", "evidence", "assessment", "records", "outcomes"]
FORBIDDEN = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "typer",
    "dryneedling.web",
    "dryneedling.cli",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("area", CORE)
def test_it_keeps_the_core_free_of_web_cli_and_database_imports(area):
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / area).rglob("*.py")
        for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert not offenders, f"the {area} core imports a shell or database: {sorted(offenders)}"


WEB = ("fastapi", "starlette", "uvicorn", "dryneedling.web", "dryneedling.cli", "typer")
DATABASE = ("sqlalchemy", "alembic", "psycopg")


def _offenders(area: str, forbidden: tuple[str, ...]) -> set[str]:
    return {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / area).rglob("*.py")
        for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    }


def test_it_keeps_the_use_cases_free_of_web_and_cli_imports():
    assert (PACKAGE / "services").is_dir()
    assert not _offenders("services", WEB), "services must not import a shell"


def test_it_lets_only_the_db_package_import_the_database_libraries():
    offenders = {
        hit
        for path in PACKAGE.iterdir()
        if path.is_dir() and path.name not in ("db", "__pycache__")
        for hit in _offenders(path.name, DATABASE)
    }
    assert not offenders, sorted(offenders)


def test_it_keeps_no_hidden_data_loading_in_the_core():
    """No module-level cache and no `x or load_x()` default: the catalog is passed in."""
    pattern = re.compile(r"\b(\w+) or load_\w+\(|@(functools\.)?(lru_)?cache\b|^_?[A-Z_]*CACHE\w*\s*[:=]")
    found = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for area in CORE
        for path in (PACKAGE / area).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    # numeric helpers (critical values of distributions) are memoised pure functions, not data caches
    found = [hit for hit in found if not hit.startswith(("evidence/pooling.py", "evidence/_estimators.py"))]
    assert not found, found
