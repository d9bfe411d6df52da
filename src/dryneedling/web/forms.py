"""Turn the assess page's form fields into the profile mapping that ``load_profile`` validates.

Values stay strings: ``load_profile`` (pydantic, lax mode) converts them and names the field when one is
wrong, so the form reports errors exactly as a YAML profile does. Blank fields are left out.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from dryneedling.assessment.profile import REGION_LIST_FIELDS, parse_profile_text

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
LIST_FIELDS = ("pain_regions", "comorbidities")
TEXT_LIST_FIELDS = ("prior_injuries",)
#: Medicine rows on the form: a name (suggested from the vocabulary) and whether it is taken now.
MEDICINE_STATUSES = ("current", "stopped", "unknown")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text_list(value: str | None) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n;]", value or "") if part.strip()]


def _medicines(form: FormData) -> list[Any]:
    """One entry per filled medicine row: the name as typed, with its status when not "taken now"."""
    names = [str(v) for v in form.getlist("medications")]
    statuses = [str(v) for v in form.getlist("medication_status")]
    entries: list[Any] = []
    for index, name in enumerate(names):
        status = statuses[index] if index < len(statuses) else "current"
        for part in _text_list(name):
            entries.append(part if status in ("", "current") else {"name": part, "status": status})
    return entries


def _checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


def profile_from_form(form: FormData) -> dict[str, Any]:
    """The profile mapping for the fields of the assess form (see ``web/templates/assess.html``).

    A pasted YAML/JSON profile (``profile_text``) wins over the fields, so any profile the CLI reads
    can be assessed on the page too. Trigger points are recorded on the pain's side when that is left
    or right; each region of a regional list carries its own side (``<list>_side.<region>``, e.g.
    ``lymphedema_regions_side.upper_arm``) when one is chosen.
    """
    pasted = str(form.get("profile_text") or "")
    if pasted.strip():
        return dict(parse_profile_text(pasted))
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
    medicines = _medicines(form)
    if medicines:
        data["medications"] = medicines
    data["consent"] = _checked(form, "consent")
    if not _blank(form.get("consent_by")):
        data["consent_by"] = str(form.get("consent_by")).strip()
    if _checked(form, "pregnant"):
        pregnancy: dict[str, Any] = {"pregnant": True}
        if not _blank(form.get("trimester")):
            trimester = str(form.get("trimester")).strip()
            # The trimester is one of the numbers 1-3; a form sends text, which the profile would refuse.
            pregnancy["trimester"] = int(trimester) if trimester.isdigit() else trimester
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
    for name in REGION_LIST_FIELDS:
        marks: list[Any] = []
        for value in form.getlist(name):
            if _blank(value):
                continue
            region = str(value).strip()
            side = str(form.get(f"{name}_side.{region}") or "").strip()
            marks.append({"region": region, "side": side} if side else region)
        if marks:
            data[name] = marks
    side = data.get("side")
    findings = []
    for kind in ("active", "latent"):
        for muscle in form.getlist(f"{kind}_trigger_points"):
            if not _blank(muscle):
                finding = {"muscle": str(muscle), "kind": kind}
                if side in ("left", "right"):
                    finding["side"] = side
                findings.append(finding)
    if findings:
        data["trigger_points"] = findings
    return data
