"""The validated-catalog cache on disk: a hit equals a fresh build, and anything that differs is rebuilt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dryneedling import catalog as catalog_module
from dryneedling.catalog import (
    CACHE_ENV,
    Catalog,
    data_version,
    default_cache_dir,
    load_catalog,
)
from dryneedling.cli import app
from dryneedling.knowledge import DATA_DIR


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private copy of the packaged data that a test may change."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("catalog-*.pickle"))


def forbid_building(monkeypatch) -> None:
    def must_not_build(root):
        raise AssertionError(f"the catalog was built from {root} instead of read from the cache")

    monkeypatch.setattr(catalog_module, "_build", must_not_build)


def test_it_returns_an_equal_catalog_from_the_cache_without_parsing_the_files(
    data, cache, monkeypatch, catalog
):
    first = load_catalog(data, cache_dir=cache)
    assert len(cache_files(cache)) == 1
    forbid_building(monkeypatch)
    second = load_catalog(data, cache_dir=cache)
    assert second == first and second is not first
    assert second.version == first.version == catalog.version == data_version(data)
    assert second.kb.muscle("upper_trapezius") == catalog.kb.muscle("upper_trapezius")
    assert second.evidence.syntheses == catalog.evidence.syntheses
    assert second.guidance == catalog.guidance
    with pytest.raises(TypeError):  # read-only views stay read-only after the round trip
        second.kb.muscles["x"] = None  # type: ignore[index]


def test_it_rebuilds_when_a_fact_changes_and_serves_the_new_fact(data, cache):
    before = load_catalog(data, cache_dir=cache)
    path = data / "muscles.yaml"
    path.write_text(path.read_text().replace("name: Trapezius, upper fibres", "name: Upper trapezius"))
    after = load_catalog(data, cache_dir=cache)
    assert after.version != before.version and after.version == data_version(data)
    assert after.kb.muscle("upper_trapezius").name == "Upper trapezius"
    assert load_catalog(data, cache_dir=cache) == after == load_catalog(data)
    assert len(cache_files(cache)) == 1, "the stale entry is replaced, not kept beside the new one"


def test_it_rebuilds_a_corrupt_or_truncated_cache_file(data, cache, monkeypatch):
    good = load_catalog(data, cache_dir=cache)
    (path,) = cache_files(cache)
    whole = path.read_bytes()
    for damaged in (b"not a pickle", whole[: len(whole) // 2], whole[:-1] + b"\x00", b""):
        path.write_bytes(damaged)
        assert load_catalog(data, cache_dir=cache) == good
        assert path.read_bytes() != damaged, "the rebuilt catalog is stored again"
    forbid_building(monkeypatch)
    assert load_catalog(data, cache_dir=cache) == good


def test_it_ignores_an_entry_made_by_other_code(data, cache, monkeypatch):
    load_catalog(data, cache_dir=cache)
    monkeypatch.setattr(catalog_module, "_code_digest", lambda: "0" * 64)
    built = []
    real_build = catalog_module._build
    monkeypatch.setattr(
        catalog_module, "_build", lambda root, complete=True: built.append(root) or real_build(root, complete)
    )
    load_catalog(data, cache_dir=cache)
    assert built == [data]


def test_it_keeps_one_entry_per_data_directory(data, cache, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(data, other)
    a = load_catalog(data, cache_dir=cache)
    b = load_catalog(other, cache_dir=cache)
    assert len(cache_files(cache)) == 2
    assert a.version == b.version and a.data_dir == data and b.data_dir == other
    assert load_catalog(other, cache_dir=cache).kb.data_dir == other


def test_it_still_loads_when_the_cache_cannot_be_written(data, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory should be")
    assert load_catalog(data, cache_dir=blocked / "cache") == load_catalog(data)


def test_it_still_reports_broken_data_with_a_cache(data, cache):
    from dryneedling.errors import DataError

    path = data / "muscles.yaml"
    path.write_text(path.read_text().replace("area: neck", "area: nowhere", 1))
    with pytest.raises(DataError):
        load_catalog(data, cache_dir=cache)
    assert not cache_files(cache)


def test_it_finds_the_cache_directory_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    for off in ("off", "OFF", "0"):
        monkeypatch.setenv(CACHE_ENV, off)
        assert default_cache_dir() is None
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "dryneedling"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "dryneedling"


def test_it_answers_the_same_from_the_cache_on_the_command_line(monkeypatch, cache):
    runner = CliRunner()
    monkeypatch.setenv(CACHE_ENV, "off")
    fresh = runner.invoke(app, ["atlas", "--pain", "temple,occiput", "--json"])
    monkeypatch.setenv(CACHE_ENV, str(cache))
    first = runner.invoke(app, ["atlas", "--pain", "temple,occiput", "--json"])
    assert len(cache_files(cache)) == 1
    forbid_building(monkeypatch)
    second = runner.invoke(app, ["atlas", "--pain", "temple,occiput", "--json"])
    assert fresh.exit_code == first.exit_code == second.exit_code == 0, second.output
    assert json.loads(fresh.stdout) == json.loads(first.stdout) == json.loads(second.stdout)


def test_it_validates_every_file_in_kb_check_even_with_a_cache(monkeypatch, cache):
    monkeypatch.setenv(CACHE_ENV, str(cache))
    built: list[Path] = []
    real_build = catalog_module._build

    def counting_build(root: Path, complete: bool = True) -> Catalog:
        built.append(root)
        return real_build(root, complete)

    monkeypatch.setattr(catalog_module, "_build", counting_build)
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["kb", "check", "--json"])
        assert result.exit_code == 0, result.output
    assert len(built) == 2 and not cache_files(cache)


def test_it_loads_the_practice_rules_and_public_pages_on_first_use_from_a_cached_catalog(data, cache):
    load_catalog(data, cache_dir=cache)
    cached = load_catalog(data, cache_dir=cache)
    assert "practice" not in cached.derived and "learn" not in cached.derived
    assert cached.practice is not None and "practice" in cached.derived
    complete = load_catalog(data, cache_dir=cache, complete=True)
    assert {"practice", "learn"} <= set(complete.derived)
