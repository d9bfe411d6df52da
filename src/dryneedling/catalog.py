"""The Catalog: every piece of curated data, loaded and validated once, with one version.

The knowledge base, the assessment guidance, the evidence data, the grade rules and the practice rules
(``records/practice.yaml``: CPT, adverse events, consent wording) are read from one data
directory (``knowledge/data``: the knowledge YAML, ``guidance/`` and ``evidence/``) and checked against each
other. ``version`` is a content hash of every file the catalog was built from, so a stored report can say
exactly which knowledge it was made with. The CLI builds a catalog per command; the web app builds one at
start-up and hands it to every request. Nothing else caches data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from dryneedling.errors import DataError, Problem
from dryneedling.evidence.rules import GradeRules
from dryneedling.evidence.syntheses import EvidenceData, load_evidence
from dryneedling.knowledge.guidance import Guidance, load_guidance
from dryneedling.knowledge.load import DATA_DIR, KnowledgeBase, load_knowledge
from dryneedling.records.rules import PracticeRules, load_practice_rules

#: Files that make up the data, relative to the data directory (anything else is ignored by the hash).
DATA_SUFFIXES = (".yaml", ".yml", ".csv")
VERSION_LENGTH = 12


@dataclass(frozen=True)
class Catalog:
    """The validated data the whole application works from (see the module docstring)."""

    kb: KnowledgeBase
    guidance: Guidance
    evidence: EvidenceData
    version: str
    data_dir: Path
    practice: PracticeRules

    @property
    def grade_rules(self) -> GradeRules:
        """The typed rules behind certainty, strength and patient wording."""
        return self.evidence.rules


def data_files(data_dir: Path) -> list[Path]:
    """Every data file under ``data_dir`` that the catalog reads, in a stable order."""
    return sorted(path for path in data_dir.rglob("*") if path.is_file() and path.suffix in DATA_SUFFIXES)


def data_version(data_dir: Path) -> str:
    """A short SHA-256 of the data files (their paths and bytes): it changes when any fact changes."""
    digest = hashlib.sha256()
    for path in data_files(data_dir):
        digest.update(path.relative_to(data_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:VERSION_LENGTH]


def load_catalog(data_dir: Path | str | None = None) -> Catalog:
    """Load and cross-check all curated data in ``data_dir`` (default: the packaged data).

    Raises :class:`~dryneedling.errors.DataError` with every problem of every part: the knowledge base
    first (guidance and evidence are checked against it only when it loads).
    """
    root = Path(data_dir).resolve() if data_dir is not None else DATA_DIR
    if not root.is_dir():
        raise DataError([Problem(str(root), "-", "", "data directory not found")])
    kb = load_knowledge(root)
    problems: list[Problem] = []
    guidance = evidence = practice = None
    try:
        guidance = load_guidance(root / "guidance", kb)
    except DataError as exc:
        problems.extend(exc.problems)
    try:
        evidence = load_evidence(root / "evidence", kb=kb)
    except DataError as exc:
        problems.extend(exc.problems)
    try:
        practice = load_practice_rules(root, kb.sources)
    except DataError as exc:
        problems.extend(exc.problems)
    if problems or guidance is None or evidence is None or practice is None:
        raise DataError(problems)
    return Catalog(
        kb=kb,
        guidance=guidance,
        evidence=evidence,
        version=data_version(root),
        data_dir=root,
        practice=practice,
    )
