"""Plain-text / Rich rendering of a Report for the terminal, for clinicians or for patients.

The clinician view shows every finding with its reason, action, sources and confidence; the patient view
shows only the plain-language sentences, in the same order, with no ids or citations.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dryneedling.errors import InputError
from dryneedling.vocabulary import AUDIENCES

DECISION_LABEL = {
    "suitable": "Suitable for dry needling",
    "needle_with_precautions": "Needle with precautions",
    "do_not_needle": "Do not needle",
}
PATIENT_DECISION_LABEL = {
    "suitable": "Dry needling may suit you",
    "needle_with_precautions": "Dry needling with extra care",
    "do_not_needle": "No dry needling for now",
}
DECISION_STYLE = {"suitable": "green", "needle_with_precautions": "yellow", "do_not_needle": "bold red"}


def _effect_words(row) -> str:
    """The row's effect in words (scale named, no internal labels); rows stored before ``effect_text``
    existed print the abbreviation or the vocabulary label instead of the internal id."""
    if row.get("effect_text"):
        return row.get("effect_text")
    measure = row.get("effect_measure")
    if measure not in ("MD", "WMD", "SMD", "RR"):
        measure = row.get("effect_measure_label") or str(measure).replace("_", " ")
    estimate = row.get("estimate")
    text = f"{measure} {estimate if estimate is not None else 'not reported'}"
    if row.get("ci_low") is not None:
        text += f" (95% CI {row.get('ci_low')} to {row.get('ci_high')})"
    return text


def _check(audience: str) -> str:
    if audience not in AUDIENCES:
        raise InputError.unknown("audience", audience, AUDIENCES)
    return audience


def _cite(item: Any) -> str:
    sources = ", ".join(item.sources) if item.sources else "no source - clinical reasoning"
    return f"[{item.confidence} confidence; {sources}]"


def _summary(report: Any, kb: Any) -> list[Any]:
    """What a clinician reads in a minute, first: person, decision, restrictions, muscles, one line each
    for evidence, heat, aftercare, plan and follow-up (the same choices as the HTML summary)."""
    from dryneedling.render.context import versions
    from dryneedling.render.html import (
        SUMMARY_MUSCLES,
        _first_sentence,
        blocked_where,
        lead_evidence_row,
        person_line,
        summary_items,
    )

    s = report.screening
    lines = [f"**{person_line(report.profile, kb)}**", ""]
    items = summary_items(report)
    if s.blocked_regions:
        lines.append(f"- No needles in, {blocked_where(report, kb)}")
    lines += [f"- {item.label}: {_first_sentence(item.action)}" for item in items]
    if len(s.items) > len(items):
        lines.append(f"- {len(s.items) - len(items)} more findings under Screening findings.")
    muscles = report.candidate_muscles[:SUMMARY_MUSCLES]
    if muscles:
        lines += ["", "**Candidate muscles**", ""]
        for index, m in enumerate(muscles, 1):
            safety = f" Safety: {_first_sentence(m.safety[0].note)}" if m.safety else ""
            side = f" ({m.side})" if m.side else ""
            lines.append(f"{index}. {m.name}{side} [{m.confidence}].{safety}")
    row = lead_evidence_row(report)
    if row:
        evidence = (
            f"{row.get('outcome_label')}, {row.get('timepoint_label')}, against {row.get('comparator_label')}: "
            f"{_effect_words(row)}; strength {row.get('strength')}, certainty "
            f"{(row.get('certainty') or 'not rated by the review').replace('_', ' ')} [{row.get('source')}]"
        )
    else:
        evidence = report.evidence.summary
    heat = report.heat_plan
    soreness = report.aftercare.soreness
    lines += [
        "",
        f"- **Evidence**: {evidence}",
        f"- **Heat**: before {'yes' if heat.before.recommended else 'no'}, after "
        f"{'yes' if heat.after.recommended else 'no'}. {_first_sentence(heat.after.reason)}",
    ]
    if soreness is not None:
        longer = ", may last longer" if soreness.may_last_longer else ""
        lines.append(
            f"- **Aftercare**: soreness {soreness.low_hours}-{soreness.high_hours} h{longer}; "
            f"{len(report.aftercare.warning_signs)} warning signs to go over."
        )
    if s.rescreen:
        lines.append(f"- **Screen again**: {'; '.join(s.rescreen)}")
    if report.care_plan.components:
        lines.append(f"- **Plan**: {', '.join(c.label for c in report.care_plan.components)}.")
    for f in report.care_plan.follow_up:
        lines.append(f"- **Follow-up** {f.when}: {_first_sentence(f.what)}")
    title = f"Summary - {DECISION_LABEL[s.decision]}"
    return [
        Text(f"Dry needling assessment - {versions(report)}", style="dim"),
        Panel(Markdown("\n".join(lines)), title=title, border_style=DECISION_STYLE[s.decision]),
    ]


def _clinician(report: Any, kb: Any) -> list[Any]:
    parts: list[Any] = _summary(report, kb)
    s = report.screening
    profile = report.profile
    parts.append(
        Text(
            f"Condition: {profile.condition} | pain regions: {', '.join(profile.pain_regions)}"
            f" | side: {profile.side or 'not recorded'} | age {profile.age}"
        )
    )
    parts.append(
        Panel(Text(DECISION_LABEL[s.decision], style=DECISION_STYLE[s.decision]), title="Screening decision")
    )
    if s.items:
        table = Table(title="Screening findings", show_lines=True, expand=True)
        for column in ("Item", "Class / effect", "Reason", "Action"):
            table.add_column(column)
        for item in s.items:
            regions = f"\nregions: {', '.join(item.regions)}" if item.regions else ""
            side = f" ({item.side})" if item.side else ""
            table.add_row(
                item.label,
                f"{item.klass} / {item.effect}{side}",
                item.reason + regions,
                f"{item.action}\n{_cite(item)}",
            )
        parts.append(table)
    unknown = [m.name for m in s.medications if not m.recognised]
    if unknown:
        parts.append(
            Text(f"Medications not recognised - check manually: {', '.join(unknown)}", style="yellow")
        )
    if report.candidate_muscles:
        table = Table(title="Candidate muscles", expand=True)
        for column in ("Muscle", "Score", "Matched regions", "Examined", "High-risk anatomy"):
            table.add_column(column)
        for c in report.candidate_muscles:
            risk = "; ".join(
                f"{n.anatomical_region or 'general'}: {n.note}" + ("" if n.anatomy_sourced else " (verify)")
                for n in c.safety
            )
            examined = f"{c.examined} (boosted)" if c.examined else ""
            table.add_row(c.name, f"{c.score:.2f}", ", ".join(c.matched_regions), examined, risk)
        parts.append(table)
    for e in report.excluded_muscles:
        parts.append(Text(f"Excluded: {e.name} - {e.reason}", style="red"))
    ev = report.evidence
    lines = [f"**Evidence** ({ev.region or 'no evidence region'}): {ev.summary}"]
    for row in ev.rows:
        lines.append(
            f"- {row.get('comparator_label', row.get('comparator'))}, {row.get('outcome_label', row.get('outcome'))}, "
            f"{row.get('timepoint_label', row.get('timepoint'))}: {_effect_words(row)}, favours {row.get('favours_label') or row.get('favours')}; "
            f"certainty {row.get('certainty') or 'not rated'}; "
            f"strength {row.get('strength')} [{row.get('source')}]"
        )
    for gap in ev.gaps:
        lines.append(f"- Gap: {gap.get('statement')}")
    parts.append(Markdown("\n".join(lines)))
    if report.modifiers:
        table = Table(title="What shapes this person's result", show_lines=True, expand=True)
        for column in ("Factor", "Finding", "Expected effect", "What to do"):
            table.add_column(column)
        for m in report.modifiers:
            label = m.label + (" (clinical reasoning)" if m.clinical_reasoning else "")
            table.add_row(label, m.finding, f"{m.expected_effect}\n{_cite(m)}", m.what_to_do)
        parts.append(table)
    heat = report.heat_plan
    parts.append(
        Markdown(
            "\n".join(
                [
                    "**Heat**",
                    f"- Before: {'yes' if heat.before.recommended else 'no'} - {heat.before.reason} {heat.before.how}",
                    f"- After: {'yes' if heat.after.recommended else 'no'} - {heat.after.reason} {heat.after.how}",
                    f"- Evidence: {heat.evidence_note}",
                ]
            )
        )
    )
    after = report.aftercare
    soreness_line = (
        f"- Soreness: {after.soreness.text} {_cite(after.soreness)}"
        if after.soreness
        else "- Not applicable: screening advises against needling."
    )
    lines = ["**Aftercare**", soreness_line]
    lines += [
        f"- {'Helps' if t.helps else 'Did not help'} ({t.who}): {t.label} - {t.clinician_text}"
        for t in after.what_helps
    ]
    lines += [
        f"- WARNING ({w.urgency}): {w.sign} -> {w.action} ({w.shown_because})" for w in after.warning_signs
    ]
    parts.append(Markdown("\n".join(lines)))
    plan = report.care_plan
    lines = ["**Care plan**"]
    lines += [f"- {c.label}: {c.clinician_text} {_cite(c)}" for c in plan.components]
    for row in plan.combined_evidence:
        lines.append(f"- Combined-care evidence: {row.get('clinician_summary')} [{row.get('source')}]")
    for m in plan.measures:
        mcids = "; ".join(f"{x.text} ({x.population}) [{x.source}]" for x in m.mcid) or "no verified MCID"
        lines.append(f"- Measure {m.name}: MCID {mcids}")
    lines += [f"- Follow-up {f.when}: {f.what}" for f in plan.follow_up]
    parts.append(Markdown("\n".join(lines)))
    parts.append(Text(f"Sources cited: {len(report.sources)}. {report.disclaimer}", style="dim"))
    return parts


def _patient(report: Any) -> list[Any]:
    s = report.screening
    lines = [
        "# Your dry needling report",
        "",
        f"**{PATIENT_DECISION_LABEL[s.decision]}.** {s.patient_text}",
        "",
    ]
    if s.items:
        lines.append("## Things your therapist will keep in mind")
        lines += [f"- {item.patient_text}" for item in s.items if item.patient_text]
    if s.rescreen_patient_text:
        lines += ["", f"**When to ask again.** {s.rescreen_patient_text}"]
    needled = s.decision != "do_not_needle"
    if report.candidate_muscles:
        lines += ["", "## Muscles that may be part of your pain"]
        lines += [f"- {c.name}: {c.patient_text}" for c in report.candidate_muscles[:6]]
    lines += ["", "## What the research says", report.evidence.patient_text]
    if report.modifiers:
        lines += ["", "## What may shape your result"]
        lines += [f"- {m.patient_text}" for m in report.modifiers]
    heat = report.heat_plan
    after = report.aftercare
    if needled:
        lines += [
            "",
            "## Heat",
            f"- Before: {heat.before.patient_text}",
            f"- After: {heat.after.patient_text}",
        ]
        if after.soreness:
            lines += ["", "## After needling", f"- {after.soreness.patient_text}"]
        lines += [f"- {t.patient_text}" for t in after.what_helps]
    if after.warning_signs:
        lines += ["", "## Get help if"]
        lines += [f"- {w.patient_text}" for w in after.warning_signs]
    plan = report.care_plan
    lines += ["", "## Your care plan", plan.patient_text]
    lines += [f"- {c.patient_text}" for c in plan.components]
    lines += [f"- {f.patient_text}" for f in plan.follow_up]
    lines += ["", f"_{report.patient_disclaimer}_"]
    return [Markdown("\n".join(lines))]


def report_renderable(report: Any, audience: str = "clinician", *, catalog: Any) -> Group:
    """A Rich renderable of ``report`` for ``audience`` (clinician or patient); ``catalog``: the one the
    report was built with (labels)."""
    _check(audience)
    return Group(*(_clinician(report, catalog.kb) if audience == "clinician" else _patient(report)))


def render_text(
    report: Any, audience: str = "clinician", width: int = 100, color: bool = False, *, catalog: Any
) -> str:
    """The report as text for the terminal or a file (no colour codes unless ``color``); ``catalog``: the
    one the report was built with."""
    console = Console(
        width=width, record=True, force_terminal=color, color_system="standard" if color else None
    )
    with console.capture() as capture:
        console.print(report_renderable(report, audience, catalog=catalog))
    return capture.get()
