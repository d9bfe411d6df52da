"""The Catalog: every piece of curated data, loaded and validated once, with one version.

The knowledge base, the assessment guidance, the evidence data, the grade rules and the practice rules
(``records/practice.yaml``: CPT, adverse events, consent wording) are read from one data
directory (``knowledge/data``: the knowledge YAML, ``guidance/`` and ``evidence/``) and checked against each
other. ``version`` is a content hash of every file the catalog was built from, so a stored report can say
exactly which knowledge it was made with. The CLI builds a catalog per command; the web app builds one at
start-up and hands it to every request. Nothing else caches data in memory.

Commands that only read the catalog may pass ``cache_dir`` (see :func:`default_cache_dir`): the validated
catalog is then pickled there, keyed by the full content hash of the data files, the hash of this package's
code, the data directory and the Python and pydantic versions. A later load hashes the files again (a few
milliseconds) and unpickles the catalog only when every part of the key matches, so it never serves data
that differs from the files; an unreadable, corrupt or stale cache file is ignored and rebuilt. ``kb check``
and the web app's start-up do not use it: they always parse and validate every file. A catalog loaded
through the cache is kept out of the garbage collector's generations (``gc.freeze``): see
:func:`_keep_out_of_collections`.
"""

from __future__ import annotations

import contextlib
import copyreg
import gc
import hashlib
import io
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from pydantic import VERSION as PYDANTIC_VERSION

from dryneedling.errors import DataError, Problem
from dryneedling.evidence.rules import GradeRules
from dryneedling.evidence.syntheses import EvidenceData, load_evidence
from dryneedling.knowledge.guidance import Guidance, load_guidance
from dryneedling.knowledge.load import DATA_DIR, KnowledgeBase, load_knowledge

if (
    TYPE_CHECKING
):  # loaded on first use (see Catalog.practice / Catalog.learn): atlas and friends never need them
    from dryneedling.knowledge.learn import LearnData
    from dryneedling.outcomes.benchmarks import Benchmarks
    from dryneedling.records.rules import PracticeRules

#: Files that make up the data, relative to the data directory (anything else is ignored by the hash).
DATA_SUFFIXES = (".yaml", ".yml", ".csv")
VERSION_LENGTH = 12

#: Environment variable naming the catalog cache directory; ``off`` switches the cache off.
CACHE_ENV = "DRYNEEDLING_CACHE_DIR"
CACHE_OFF = ("off", "0", "no", "false", "none")
_CACHE_FORMAT = b"dryneedling-catalog-cache-1"
PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Catalog:
    """The validated data the whole application works from (see the module docstring)."""

    kb: KnowledgeBase
    guidance: Guidance
    evidence: EvidenceData
    version: str
    data_dir: Path
    #: Answers that depend only on this catalog's data (e.g. the evidence section of one condition for one
    #: audience), computed once per catalog: they die with it, so a new catalog never sees stale ones.
    derived: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def practice(self) -> PracticeRules:
        """The practice rules (records/practice.yaml: CPT, adverse events, consent wording), validated on first use.

        ``load_catalog()`` (web start-up, ``kb check``) validates them up front; the CLI's read commands,
        which never use them, skip the work.
        """
        if "practice" not in self.derived:
            from dryneedling.records.rules import load_practice_rules

            self.derived["practice"] = load_practice_rules(self.data_dir, self.kb.sources)
        return self.derived["practice"]

    @property
    def benchmarks(self) -> Benchmarks:
        """What the clinic dashboard shows beside a clinic's results (records/benchmarks.yaml), validated on
        first use."""
        if "benchmarks" not in self.derived:
            from dryneedling.outcomes.benchmarks import load_benchmarks

            self.derived["benchmarks"] = load_benchmarks(self.data_dir, self.kb.sources)
        return self.derived["benchmarks"]

    @property
    def learn(self) -> LearnData | None:
        """The public pages' data (learn/pages.yaml); None for a data directory without a learn/ folder."""
        if "learn" not in self.derived:
            from dryneedling.knowledge.learn import load_learn

            folder = self.data_dir / "learn"
            self.derived["learn"] = (
                load_learn(folder, self.kb, self.guidance, self.evidence) if folder.is_dir() else None
            )
        return self.derived["learn"]

    def check_every_part(self) -> Catalog:
        """Validate the parts loaded on first use too; raise one DataError with every problem."""
        problems: list[Problem] = []
        for part in ("practice", "learn", "benchmarks"):
            try:
                getattr(self, part)
            except DataError as exc:
                problems.extend(exc.problems)
        if problems:
            raise DataError(problems)
        return self

    @property
    def grade_rules(self) -> GradeRules:
        """The typed rules behind certainty, strength and patient wording."""
        return self.evidence.rules


def data_files(data_dir: Path) -> list[Path]:
    """Every data file under ``data_dir`` that the catalog reads, in a stable order."""
    return sorted(path for path in data_dir.rglob("*") if path.is_file() and path.suffix in DATA_SUFFIXES)


def data_digest(data_dir: Path) -> str:
    """The full SHA-256 (hex) of the data files, their paths and bytes: it changes when any fact changes."""
    digest = hashlib.sha256()
    for path in data_files(data_dir):
        digest.update(path.relative_to(data_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def data_version(data_dir: Path) -> str:
    """The catalog version: the first characters of :func:`data_digest`."""
    return data_digest(data_dir)[:VERSION_LENGTH]


def load_catalog(
    data_dir: Path | str | None = None, *, cache_dir: Path | str | None = None, complete: bool | None = None
) -> Catalog:
    """Load and cross-check all curated data in ``data_dir`` (default: the packaged data).

    With ``cache_dir``, a validated catalog pickled there for exactly these data files and this code is
    returned instead, and a freshly built one is stored there (see the module docstring); without it
    (the default) every file is parsed and validated.

    Raises :class:`~dryneedling.errors.DataError` with every problem of every part: the knowledge base
    first (guidance and evidence are checked against it only when it loads). ``complete`` (default: when
    no cache is used) also validates the parts a command may never use (practice rules, public pages);
    otherwise they load on first use.
    """
    complete = cache_dir is None if complete is None else complete
    root = Path(data_dir).resolve() if data_dir is not None else DATA_DIR
    if not root.is_dir():
        raise DataError([Problem(str(root), "-", "", "data directory not found")])
    if cache_dir is None:
        return _build(root, complete)
    digest = data_digest(root)
    path, key = _cache_entry(Path(cache_dir), root, digest)
    catalog = _read_cache(path, key)
    if catalog is None:
        catalog = _build(root, complete=False)
        if data_digest(root) == digest:  # the files did not change while they were read
            _write_cache(path, key, catalog)
    _keep_out_of_collections()
    return catalog.check_every_part() if complete else catalog


def _keep_out_of_collections() -> None:
    """Move every object alive now (the catalog, every imported module) out of the cyclic collector's reach.

    The cache serves commands that read one catalog until they exit (the CLI). Without this, each full
    collection that later work sets off (importing WeasyPrint, laying out a PDF, the interpreter's exit)
    walks all of these long-lived objects again: about a tenth of a second of every printed report.
    Frozen objects are still freed by reference counting; only garbage in cycles among them would wait
    for the process to end, so what is already garbage is collected first.
    """
    gc.collect()
    gc.freeze()


def _build(root: Path, complete: bool = True) -> Catalog:
    """Parse and validate the files under ``root`` (no cache); ``complete`` validates every part now."""
    kb = load_knowledge(root)
    problems: list[Problem] = []
    guidance = evidence = None
    try:
        guidance = load_guidance(root / "guidance", kb)
    except DataError as exc:
        problems.extend(exc.problems)
    try:
        evidence = load_evidence(root / "evidence", kb=kb)
    except DataError as exc:
        problems.extend(exc.problems)
    if problems or guidance is None or evidence is None:
        raise DataError(problems)
    catalog = Catalog(kb=kb, guidance=guidance, evidence=evidence, version=data_version(root), data_dir=root)
    return catalog.check_every_part() if complete else catalog


def default_cache_dir() -> Path | None:
    """Where the command line keeps its catalog cache, or None when it is switched off.

    ``$DRYNEEDLING_CACHE_DIR`` if set (``off`` switches the cache off), else ``$XDG_CACHE_HOME/dryneedling``
    (when that is an absolute path), else ``~/.cache/dryneedling``.
    """
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() in CACHE_OFF:
        return None
    if value:
        return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "dryneedling"


def _code_digest() -> str:
    """SHA-256 of this package's Python source: the pickled classes and the checks that passed."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _cache_entry(cache_dir: Path, root: Path, digest: str) -> tuple[Path, bytes]:
    """The cache file for the data directory ``root`` and the key its content must carry.

    One file per data directory (named by a hash of its path), so a new version replaces the old one.
    """
    key = "\n".join(
        (digest, _code_digest(), str(root), sys.version, PYDANTIC_VERSION, str(pickle.HIGHEST_PROTOCOL))
    )
    slot = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    return cache_dir / f"catalog-{slot}.pickle", hashlib.sha256(key.encode()).hexdigest().encode()


def _read_cache(path: Path, key: bytes) -> Catalog | None:
    """The cached catalog if ``path`` holds one under ``key``; None when missing, stale or unreadable."""
    try:
        with path.open("rb") as handle:
            header = (handle.readline(len(_CACHE_FORMAT) + 1), handle.readline(len(key) + 1))
            if header != (_CACHE_FORMAT + b"\n", key + b"\n"):
                return None  # another version of the data, the code or the format: rebuilt
            catalog = pickle.load(handle)
    except Exception:  # missing, corrupt or truncated file, a class no longer importable...: rebuild it
        return None
    return catalog if isinstance(catalog, Catalog) else None


def _readonly(mapping: dict) -> MappingProxyType:
    return MappingProxyType(mapping)


def _write_cache(path: Path, key: bytes, catalog: Catalog) -> None:
    """Store ``catalog`` under ``key`` (atomically: a reader sees the old file or the new one, never half).

    A cache that cannot be written (read-only home, full disk) is skipped: it only saves time.
    """
    buffer = io.BytesIO()
    buffer.write(_CACHE_FORMAT + b"\n" + key + b"\n")
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[MappingProxyType] = lambda proxy: (_readonly, (dict(proxy),))
    pickler.dump(replace(catalog, derived={}))  # parts loaded on first use are not part of the cache
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".catalog-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(buffer.getvalue())
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
