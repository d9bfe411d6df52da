"""The patient profile: the one input of a personal assessment.

The model checks shapes and ranges (pydantic, extra fields forbidden); :func:`validate_ids` then checks
every id against the knowledge base and the guidance data, so that an unknown condition, region, muscle or
comorbidity is reported with the field that holds it and the closest valid ids. :func:`load_profile`
does both and turns every failure into :class:`dryneedling.errors.InputError` (or
:class:`InputErrors`, which carries all of them and reads as the first one).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from dryneedling.errors import InputError
from dryneedling.safe_input import check_data, loads_json, read_text_file, too_deep

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog

Side = Literal["left", "right", "bilateral"]


class _Strict(BaseModel):
    # NaN/inf would slip past range checks and surface later as nonsense; reject them at the door.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TriggerPointFinding(_Strict):
    """A trigger point found on examination."""

    muscle: str = Field(description="Muscle id of the knowledge base (e.g. upper_trapezius).")
    side: Side | None = None
    kind: Literal["active", "latent"] = Field(
        description="active: reproduces the person's own pain; latent: tender but not their complaint."
    )


class Pregnancy(_Strict):
    """Pregnancy status; the trimester decides what screening says."""

    pregnant: bool = False
    trimester: Literal[1, 2, 3] | None = None

    @model_validator(mode="after")
    def _trimester_only_when_pregnant(self) -> Pregnancy:
        if self.trimester is not None and not self.pregnant:
            raise ValueError("trimester given but pregnant is false")
        return self


class PreviousDryNeedling(_Strict):
    """The person's own history with dry needling."""

    sessions: int = Field(0, ge=0, le=1000)
    vasovagal_reaction: bool = Field(
        False, description="Fainted or nearly fainted with needles or blood draws."
    )


class Practitioner(_Strict):
    """Who will needle: training and whether ultrasound guidance is available."""

    training_hours: float | None = Field(None, ge=0, le=10000)
    ultrasound_guidance: bool = False


class RegionMark(_Strict):
    """A body region (or a whole area such as shoulder_arm), optionally on one side."""

    region: str
    side: Side | None = None


def _as_region_mark(value: Any) -> Any:
    # A bare string is the common case in hand-written YAML; "right:shoulder_arm" is the short form for sides.
    if isinstance(value, str):
        if ":" in value:
            side, _, region = value.partition(":")
            return {"region": region.strip(), "side": side.strip()}
        return {"region": value}
    return value


MedicationStatus = Literal["current", "stopped", "unknown"]


class MedicationEntry(_Strict):
    """One medicine as the person names it; a bare string in a profile means ``{"name": it}``.

    When ``status`` is left out it is read from the name ("stopped warfarin 2019" is stopped,
    "warfarin?" unknown, plain "warfarin" current); a status given here wins over the wording.
    """

    name: str = Field(
        min_length=1, description="The medicine as written, generic or brand, dose text allowed."
    )
    status: MedicationStatus = Field(
        "current", description="current (taken now), stopped (no longer taken) or unknown."
    )
    dose: str | None = Field(None, description="Dose as written, e.g. '5 mg twice daily'.")

    @field_validator("name", "dose")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if not text:
            raise ValueError("empty entry")
        return text

    @model_serializer(mode="wrap")
    def _compact(self, handler: Any) -> Any:
        # A name given as a bare string is stored and reported as that string again, so a profile
        # round-trips as it was written; objects keep their fields.
        if self.model_fields_set == {"name"}:
            return self.name
        return handler(self)

    def __str__(self) -> str:
        # Reports join the profile's medicines into one line; say the status when it is not "current".
        status = self.status if "status" in self.model_fields_set else "current"
        extra = [part for part in (self.dose, None if status == "current" else status) if part]
        return f"{self.name} ({', '.join(extra)})" if extra else self.name


def _as_medication_entry(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


REGION_LIST_FIELDS = (
    "lymphedema_regions",
    "skin_lesion_regions",
    "implant_regions",
    "recent_surgery_regions",
    "local_inflammation_regions",
    "tumour_regions",
    "lymphedema_risk_regions",
)


class PatientProfile(_Strict):
    """Everything the assessment needs to know about one person (input of ``build_report``)."""

    age: int = Field(ge=0, le=120, description="Age in years.")
    sex: Literal["female", "male", "other"] | None = None
    condition: str = Field(description="Condition id of the knowledge base (e.g. neck_pain_stiff_neck).")
    pain_regions: list[str] = Field(min_length=1, description="Body-region ids where it hurts.")
    side: Side | None = None
    duration_weeks: float | None = Field(None, ge=0, le=5200)
    pain_nprs: int | None = Field(None, ge=0, le=10, description="Pain now, 0-10 numeric rating.")
    trigger_points: list[TriggerPointFinding] = Field(default_factory=list)
    central_sensitization_inventory: int | None = Field(None, ge=0, le=100)
    comorbidities: list[str] = Field(default_factory=list, description="Comorbidity ids (see --schema).")
    medications: list[MedicationEntry] = Field(
        default_factory=list,
        description="Medicines: a name as free text (taken now) or {name, status, dose}.",
    )
    pregnancy: Pregnancy = Field(default_factory=Pregnancy)
    needle_fear: Literal["none", "mild", "severe"] = "none"
    consent: bool = Field(description="Willing and able to give informed consent.")
    consent_by: Literal["self", "guardian"] = Field(
        "self",
        description="Who gives the consent: the person, or a parent or guardian (required for a minor).",
    )
    lymphedema_regions: list[RegionMark] = Field(default_factory=list)
    skin_lesion_regions: list[RegionMark] = Field(default_factory=list)
    implant_regions: list[RegionMark] = Field(default_factory=list)
    recent_surgery_regions: list[RegionMark] = Field(default_factory=list)
    local_inflammation_regions: list[RegionMark] = Field(default_factory=list)
    tumour_regions: list[RegionMark] = Field(default_factory=list)
    lymphedema_risk_regions: list[RegionMark] = Field(
        default_factory=list,
        description="Limb at risk of lymphedema (lymph nodes removed or irradiated) without lymphedema now.",
    )
    previous_dry_needling: PreviousDryNeedling = Field(default_factory=PreviousDryNeedling)
    activity: Literal["sedentary", "active", "athlete"] | None = None
    prior_injuries: list[str] = Field(default_factory=list)
    practitioner: Practitioner | None = None

    @field_validator(*REGION_LIST_FIELDS, mode="before")
    @classmethod
    def _region_marks(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_as_region_mark(item) for item in value]
        return value

    @field_validator("age", "pain_nprs", "central_sensitization_inventory", "duration_weeks", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number, not true/false")
        return value

    @field_validator("medications", mode="before")
    @classmethod
    def _medication_entries(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_as_medication_entry(item) for item in value]
        return value

    @field_validator("medications")
    @classmethod
    def _dedupe_medications(cls, value: list[MedicationEntry]) -> list[MedicationEntry]:
        return list(dict.fromkeys(value))

    @field_validator("comorbidities", "prior_injuries", "pain_regions")
    @classmethod
    def _strip_and_dedupe(cls, value: list[str]) -> list[str]:
        seen: list[str] = []
        for item in value:
            text = item.strip()
            if not text:
                raise ValueError("empty entry")
            if text not in seen:
                seen.append(text)
        return seen


class InputErrors(InputError):
    """Several input errors at once; reads (and exits) like the first, keeps all in ``errors``."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.field, first.message, value=first.value, choices=first.choices)
        self.suggestions = first.suggestions

    def describe(self) -> str:
        """The first error's line, plus how many more there are."""
        text = super().describe()
        if len(getattr(self, "errors", [])) > 1:
            text += f" (+{len(self.errors) - 1} more)"
        return text

    def to_dict(self) -> dict:
        """The shared error shape of the first error, with every error listed under ``errors``."""
        data = super().to_dict()
        data["errors"] = [error.to_dict() for error in self.errors]
        return data


def _field_path(loc: Iterable[Any]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        else:
            parts.append(str(part))
    return ".".join(parts) or "profile"


def _choices_for(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The allowed literal values of the field at ``loc``, when it is a Literal (for the message)."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = field.annotation
        for _ in range(3):  # unwrap Optional[...] and list[...]
            args = [a for a in typing.get_args(current) if a is not type(None)]
            if typing.get_origin(current) is Literal:
                return [str(a) for a in typing.get_args(current)]
            if len(args) == 1:
                current = args[0]
    if typing.get_origin(current) is Literal:
        return [str(a) for a in typing.get_args(current)]
    return None


def _from_validation_error(error: ValidationError) -> InputErrors:
    found: list[InputError] = []
    for detail in error.errors():
        loc = tuple(detail["loc"])
        field = _field_path(loc)
        kind = detail["type"]
        value = detail.get("input")
        if kind == "missing":
            message = "is required"
            value = None
        elif kind == "extra_forbidden":
            allowed = PatientProfile.model_fields if len(loc) == 1 else None
            found.append(
                InputError(
                    field,
                    "is not a profile field",
                    value=loc[-1],
                    choices=list(allowed) if allowed else None,
                )
            )
            continue
        else:
            message = detail["msg"]
        choices = _choices_for(PatientProfile, loc)
        if not isinstance(value, str | int | float | bool | type(None)):
            value = None
        found.append(InputError(field, message, value=value, choices=choices))
    return InputErrors(found)


def validate_ids(profile: PatientProfile, catalog: Catalog) -> list[InputError]:
    """Check every id in ``profile`` against the catalog's knowledge base and guidance; return the errors."""
    kb, guidance = catalog.kb, catalog.guidance
    errors: list[InputError] = []
    if profile.condition not in kb.conditions:
        errors.append(InputError.unknown("condition", profile.condition, kb.conditions, kind="condition"))
    for index, region in enumerate(profile.pain_regions):
        if region not in kb.regions:
            errors.append(
                InputError.unknown(f"pain_regions[{index}]", region, kb.regions, kind="body region")
            )
    for index, finding in enumerate(profile.trigger_points):
        if finding.muscle not in kb.muscles:
            errors.append(
                InputError.unknown(
                    f"trigger_points[{index}].muscle", finding.muscle, kb.muscles, kind="muscle"
                )
            )
    for index, comorbidity in enumerate(profile.comorbidities):
        if comorbidity not in guidance.comorbidities:
            errors.append(
                InputError.unknown(
                    f"comorbidities[{index}]", comorbidity, guidance.comorbidities, kind="comorbidity"
                )
            )
    region_or_area = set(kb.regions) | set(kb.areas)
    for name in REGION_LIST_FIELDS:
        for index, mark in enumerate(getattr(profile, name)):
            if mark.region not in region_or_area:
                errors.append(
                    InputError.unknown(
                        f"{name}[{index}]", mark.region, region_or_area, kind="body region or area"
                    )
                )
    return errors


def _read_text(source: str | Path) -> tuple[str, str]:
    if str(source) == "-":
        import sys

        return sys.stdin.read(), "-"
    path = Path(source)
    return read_text_file(path, "profile"), path.suffix.lower()


def parse_profile_text(text: str, suffix: str = "") -> Mapping[str, Any]:
    """Parse YAML or JSON profile text into a mapping, as InputError when it is not a mapping.

    JSON (a ``.json`` file, or text without a YAML/other suffix that starts with ``{``) is parsed strictly;
    either way nesting deeper than :data:`~dryneedling.safe_input.MAX_DEPTH` and non-finite numbers
    (``NaN``, ``Infinity``, YAML's ``.nan`` and ``.inf``) are refused naming their field.
    """
    looks_like_json = suffix == ".json" or (suffix in ("", "-") and text.lstrip().startswith("{"))
    try:
        data = None
        if looks_like_json:
            try:
                data = loads_json(text, field="profile")
            except json.JSONDecodeError:
                if suffix == ".json":
                    raise
                looks_like_json = False  # a YAML flow mapping such as {age: 40, ...}
        if not looks_like_json:
            data = yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError("profile", f"not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise too_deep("profile") from None
    check_data(data, "profile")
    if not isinstance(data, Mapping):
        raise InputError("profile", "must be a mapping of fields (see `dryneedling assess --schema`)")
    return data


def read_profile(source: str | Path) -> Mapping[str, Any]:
    """The mapping of profile fields in a YAML/JSON file (``-`` for standard input), not yet validated."""
    text, suffix = _read_text(source)
    return parse_profile_text(text, suffix)


def load_profile(source: str | Path | Mapping[str, Any], catalog: Catalog) -> PatientProfile:
    """Read a profile from a YAML/JSON path (``-`` for stdin) or a dict; validate shape and every id.

    Raises :class:`InputErrors` (an :class:`InputError`) listing every problem, the first one in its message.
    """
    if isinstance(source, Mapping):
        data = source
    else:
        text, suffix = _read_text(source)
        data = parse_profile_text(text, suffix)
    try:
        profile = PatientProfile.model_validate(dict(data))
    except ValidationError as exc:
        raise _from_validation_error(exc) from None
    errors = validate_ids(profile, catalog)
    if errors:
        raise InputErrors(errors)
    return profile


def profile_schema(catalog: Catalog) -> dict:
    """The JSON Schema of the profile (published by ``dryneedling assess --schema``).

    Id fields carry the valid ids of the knowledge base as ``enum`` so that forms and clients can offer
    them; region lists accept an id (``"shoulder_arm"``, ``"right:shoulder_arm"``) or ``{region, side}``.
    """
    kb = catalog.kb
    schema = PatientProfile.model_json_schema()
    schema["title"] = "dryneedling patient profile"
    properties = schema["properties"]
    properties["comorbidities"]["items"] = {"type": "string", "enum": sorted(catalog.guidance.comorbidities)}
    properties["condition"]["enum"] = sorted(kb.conditions)
    properties["pain_regions"]["items"] = {"type": "string", "enum": sorted(kb.regions)}
    schema["$defs"]["TriggerPointFinding"]["properties"]["muscle"]["enum"] = sorted(kb.muscles)
    places = sorted(set(kb.regions) | set(kb.areas))
    schema["$defs"]["RegionMark"]["properties"]["region"]["enum"] = places
    properties["medications"]["items"] = {
        "anyOf": [
            {
                "type": "string",
                "description": "medicine name as written; words such as stopped, not on or ex- mark it not taken",
            },
            {"$ref": "#/$defs/MedicationEntry"},
        ]
    }
    for name in REGION_LIST_FIELDS:
        properties[name]["items"] = {
            "anyOf": [
                {
                    "type": "string",
                    "description": "body-region or area id, optionally prefixed with 'left:' or 'right:'",
                },
                {"$ref": "#/$defs/RegionMark"},
            ]
        }
    return schema
