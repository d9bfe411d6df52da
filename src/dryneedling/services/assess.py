"""Use case: the personal assessment of one profile (``dryneedling assess`` and ``POST /api/assess``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dryneedling.assessment.profile import load_profile
from dryneedling.assessment.report import Report, build_report
from dryneedling.catalog import Catalog
from dryneedling.errors import InputError
from dryneedling.vocabulary import AUDIENCES


def assess(catalog: Catalog, profile: Any, audience: str = "clinician") -> Report:
    """Validate ``profile`` (a mapping of profile fields) and build its Report.

    Shells read files themselves (:func:`~dryneedling.assessment.profile.read_profile`): a path never
    reaches this function, so no request body can make the server read a file.

    Raises :class:`~dryneedling.errors.InputError` naming the field for an unknown audience, a body that
    is not a mapping, or any problem in the profile.
    """
    if audience not in AUDIENCES:
        raise InputError.unknown("audience", audience, AUDIENCES, kind="audience")
    if not isinstance(profile, Mapping):
        raise InputError("body", "must be a JSON object of profile fields", value=type(profile).__name__)
    return build_report(load_profile(profile, catalog), catalog, audience=audience)
