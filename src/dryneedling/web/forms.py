"""Turn the assess page's form fields into the profile mapping that ``load_profile`` validates.

Values stay strings: ``load_profile`` (pydantic, lax mode) converts them and names the field when one is
wrong, so the form reports errors exactly as a YAML profile does. Blank fields are left out.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from dryneedling.assessment.profile import REGION_LIST_FIELDS

SCALAR_FIELDS = (
    "age",
    "sex",
    "condition",
    "side",
    "duration_weeks",
    "pain_nprs",
    "central_sensitization_inventory",
    "needle_fear",
    "activity",
)
LIST_FIELDS = ("pain_regions", "comorbidities", *REGION_LIST_FIELDS)
TEXT_LIST_FIELDS = ("medications", "prior_injuries")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text_list(value: str | None) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n;]", value or "") if part.strip()]


def _checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


def profile_from_form(form: FormData) -> dict[str, Any]:
    """The profile mapping for the fields of the assess form (see ``web/templates/assess.html``)."""
    data: dict[str, Any] = {}
    for name in SCALAR_FIELDS:
        value = form.get(name)
        if not _blank(value):
            data[name] = str(value).strip()
    for name in LIST_FIELDS:
        values = [str(v) for v in form.getlist(name) if not _blank(v)]
        if values:
            data[name] = values
    for name in TEXT_LIST_FIELDS:
        values = _text_list(str(form.get(name) or ""))
        if values:
            data[name] = values
    data["consent"] = _checked(form, "consent")
    if _checked(form, "pregnant"):
        pregnancy: dict[str, Any] = {"pregnant": True}
        if not _blank(form.get("trimester")):
            pregnancy["trimester"] = str(form.get("trimester"))
        data["pregnancy"] = pregnancy
    previous: dict[str, Any] = {}
    if not _blank(form.get("previous_sessions")):
        previous["sessions"] = str(form.get("previous_sessions")).strip()
    if _checked(form, "vasovagal_reaction"):
        previous["vasovagal_reaction"] = True
    if previous:
        data["previous_dry_needling"] = previous
    practitioner: dict[str, Any] = {}
    if not _blank(form.get("training_hours")):
        practitioner["training_hours"] = str(form.get("training_hours")).strip()
    if _checked(form, "ultrasound_guidance"):
        practitioner["ultrasound_guidance"] = True
    if practitioner:
        data["practitioner"] = practitioner
    active = [str(m) for m in form.getlist("active_trigger_points") if not _blank(m)]
    if active:
        data["trigger_points"] = [{"muscle": muscle, "kind": "active"} for muscle in active]
    return data
