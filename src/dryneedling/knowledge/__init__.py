"""The curated, cited knowledge base: body regions, referral atlas, conditions, safety, outcome measures.

>>> from dryneedling.knowledge import load_knowledge
>>> kb = load_knowledge()
>>> kb.muscle("upper_trapezius").confidence
'high'
"""

from dryneedling.knowledge.load import DATA_DIR, KnowledgeBase, KnowledgeError, Problem, load_knowledge
from dryneedling.knowledge.models import (
    CONFIDENCE_ORDER,
    AnatomicalRegion,
    Area,
    Band,
    BodyRegion,
    Condition,
    Cutoff,
    Icd10,
    Mcid,
    Mdc,
    Measure,
    MeasureVariant,
    Muscle,
    NeedlingSafety,
    SafetyItem,
    Source,
)

__all__ = [
    "CONFIDENCE_ORDER",
    "DATA_DIR",
    "AnatomicalRegion",
    "Area",
    "Band",
    "BodyRegion",
    "Condition",
    "Cutoff",
    "Icd10",
    "KnowledgeBase",
    "KnowledgeError",
    "Mcid",
    "Mdc",
    "Measure",
    "MeasureVariant",
    "Muscle",
    "NeedlingSafety",
    "Problem",
    "SafetyItem",
    "Source",
    "load_knowledge",
]
