"""Words each plain-language strength may not use, kept apart from grade_rules.yaml on purpose."""

FORBIDDEN = {
    "Moderate": ["cure", "cures", "works", "proven", "guarantee", "definitely"],
    "Emerging": ["cure", "cures", "works", "proven", "guarantee", "definitely", "probably", "likely"],
    "Limited": [
        "cure",
        "cures",
        "works",
        "proven",
        "guarantee",
        "definitely",
        "probably",
        "likely",
        "may help",
    ],
}
