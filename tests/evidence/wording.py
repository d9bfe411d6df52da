"""What no person should read in the evidence table's wording (issue 9), shared by the model, CLI, web and
PDF tests: "n/r" placeholders, internal effect-measure ids, "at most high" for a check that could judge
nothing, and - in patient wording - effect-size jargon (SMD, k, I²)."""

from __future__ import annotations

import re

from shipped import shipped_catalog

#: Internal ids of effect measures other than the abbreviations clinicians know (MD, WMD, SMD, RR).
INTERNAL_LABELS = sorted(
    term
    for term in shipped_catalog().evidence.vocabulary.effect_measures
    if term not in ("MD", "WMD", "SMD", "RR")
)
UNREADABLE = re.compile(
    r"n/r%?|\bat most high\b|" + "|".join(rf"\b{re.escape(label)}\b" for label in INTERNAL_LABELS)
)
#: Effect-size jargon patients never see: SMD, a study count "k", I² (or I2).
PATIENT_JARGON = re.compile(
    r"\bSMD\b|(?<![\w'’])k(?![\w'’])|\bI²|\bI2\b|standardi[sz]ed mean difference|\bMD\b|confidence interval"
)


def unreadable(text: str) -> list[str]:
    """Every forbidden piece found in ``text``."""
    return UNREADABLE.findall(text)


def patient_jargon(text: str) -> list[str]:
    return PATIENT_JARGON.findall(text)
