"""What changed between two versions of an interview template, in plain sentences.

An admin comparing versions wants to know what a candidate or an interviewer will
meet differently ("Onsite loop: target 10 → 7 days", "Coding, level 3 (Good):
anchor reworded"), not which JSON keys moved. Each change names its section
(stages, competencies and their anchors, interviews, scoring, the template itself)
and, where a text was reworded, carries the old and new text so a page can show
both. Things are matched by key, so a renamed stage is one rename, not a removal
and an addition. Pure: two `InterviewTemplate`s in, a list of `Change`s out, in the
order of the newer version (removed things last in their section).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from service.domain.templates import (
    Competency,
    Interview,
    InterviewTemplate,
    Question,
    Reminders,
    RubricLevel,
    Stage,
)

TEMPLATE = "Template"
STAGES = "Stages"
COMPETENCIES = "Competencies"
ANCHORS = "Anchors"
INTERVIEWS = "Interviews"
SCORING = "Scoring"
SECTIONS = (TEMPLATE, STAGES, COMPETENCIES, ANCHORS, INTERVIEWS, SCORING)


@dataclass(frozen=True)
class Change:
    """One change: its section, a sentence, and for a reworded text the old and new."""

    section: str
    text: str
    before: str | None = None
    after: str | None = None


def template_changes(old: InterviewTemplate, new: InterviewTemplate) -> list[Change]:
    """Every difference from `old` to `new`, grouped by section in `SECTIONS` order."""
    changes = [
        *_template(old, new),
        *_stages(old, new),
        *_competencies(old, new),
        *_anchors(old, new),
        *_interviews(old, new),
        *_scoring(old, new),
    ]
    return sorted(changes, key=lambda c: SECTIONS.index(c.section))


def by_section(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    """The changes as (section, its changes), sections in `SECTIONS` order, empty ones left out."""
    grouped: dict[str, list[Change]] = {}
    for change in changes:
        grouped.setdefault(change.section, []).append(change)
    return [(s, grouped[s]) for s in SECTIONS if s in grouped]


# ---- Sections -------------------------------------------------------------------


def _template(old: InterviewTemplate, new: InterviewTemplate) -> list[Change]:
    changes = []
    if old.title != new.title:
        changes.append(Change(TEMPLATE, f"Title changed from “{old.title}” to “{new.title}”."))
    if old.description != new.description:
        changes.append(
            Change(TEMPLATE, "Description reworded.", before=old.description, after=new.description)
        )
    if old.retention_days != new.retention_days:
        changes.append(
            Change(
                TEMPLATE,
                f"Candidate data kept {_retention(old.retention_days)} "
                f"→ {_retention(new.retention_days)} after their last application ends.",
            )
        )
    before, after = old.reminder_settings, new.reminder_settings
    if before != after:
        changes.append(
            Change(
                TEMPLATE,
                f"Scorecard reminders: {_reminders(before)} → {_reminders(after)}.",
            )
        )
    if old.recommendation_scale != new.recommendation_scale:
        changes.append(
            Change(
                TEMPLATE,
                f"Recommendation scale: {_words(old.recommendation_scale)} "
                f"→ {_words(new.recommendation_scale)}.",
            )
        )
    return changes


def _stages(old: InterviewTemplate, new: InterviewTemplate) -> list[Change]:
    names = {s.key: s.name for s in (*old.stages, *new.stages)}

    def moves(keys: Sequence[str]) -> str:
        return ", ".join(names.get(k, k) for k in keys) or "nowhere (final stage)"

    def changed(a: Stage, b: Stage) -> list[str]:
        out = []
        if a.name != b.name:
            out.append(f"Stage “{a.name}” renamed “{b.name}”.")
        if a.sla_days != b.sla_days:
            out.append(f"{b.name}: target {a.sla_days} → {b.sla_days} days.")
        if set(a.next) != set(b.next):
            out.append(f"{b.name}: candidates can move on to {moves(a.next)} → {moves(b.next)}.")
        return out

    changes = _matched(
        STAGES,
        old.stages,
        new.stages,
        added=lambda s: f"Stage “{s.name}” added (target {s.sla_days} days).",
        removed=lambda s: f"Stage “{s.name}” removed.",
        changed=changed,
    )
    kept = [s.key for s in old.stages if new.stage(s.key)]
    if kept != [s.key for s in new.stages if old.stage(s.key)]:
        order = " → ".join(s.name for s in new.stages)
        changes.append(Change(STAGES, f"Stages reordered: {order}."))
    return changes


def _competencies(old: InterviewTemplate, new: InterviewTemplate) -> list[Change]:
    def changed(a: Competency, b: Competency) -> list[Change]:
        out = []
        if a.name != b.name:
            out.append(Change(COMPETENCIES, f"Competency “{a.name}” renamed “{b.name}”."))
        if a.description != b.description:
            out.append(
                Change(
                    COMPETENCIES,
                    f"{b.name}: description reworded.",
                    before=a.description,
                    after=b.description,
                )
            )
        return out

    return _matched_changes(
        COMPETENCIES,
        old.competencies,
        new.competencies,
        added=lambda c: f"Competency “{c.name}” added.",
        removed=lambda c: f"Competency “{c.name}” removed.",
        changed=changed,
    )


def _anchors(old: InterviewTemplate, new: InterviewTemplate) -> list[Change]:
    """Rubric levels of the competencies in both versions (a new one's are all new)."""
    changes = []
    for b in new.competencies:
        a = old.competency(b.key)
        if a is None:
            continue
        before = {r.level: r for r in a.rubric}
        after = {r.level: r for r in b.rubric}
        for level in sorted(before.keys() | after.keys()):
            changes += _level(b.name, before.get(level), after.get(level))
    return changes


def _level(competency: str, a: RubricLevel | None, b: RubricLevel | None) -> list[Change]:
    if a is None and b is not None:
        return [
            Change(ANCHORS, f"{competency}: level {b.level} ({b.label}) added.", after=b.anchor)
        ]
    if b is None and a is not None:
        return [
            Change(ANCHORS, f"{competency}: level {a.level} ({a.label}) removed.", before=a.anchor)
        ]
    assert a is not None and b is not None
    out = []
    if a.label != b.label:
        out.append(
            Change(ANCHORS, f"{competency}, level {b.level}: label “{a.label}” → “{b.label}”.")
        )
    if a.anchor != b.anchor:
        out.append(
            Change(
                ANCHORS,
                f"{competency}, level {b.level} ({b.label}): anchor reworded.",
                before=a.anchor,
                after=b.anchor,
            )
        )
    return out


def _interviews(old: InterviewTemplate, new: InterviewTemplate) -> list[Change]:
    stage_names = {s.key: s.name for s in (*old.stages, *new.stages)}
    competency_names = {c.key: c.name for c in (*old.competencies, *new.competencies)}

    def assessed(keys: Iterable[str]) -> str:
        return _words(competency_names.get(k, k) for k in keys)

    def changed(a: Interview, b: Interview) -> list[Change]:
        out = []
        if a.title != b.title:
            out.append(Change(INTERVIEWS, f"Interview “{a.title}” renamed “{b.title}”."))
        if a.stage != b.stage:
            out.append(
                Change(
                    INTERVIEWS,
                    f"{b.title}: moved from the {stage_names.get(a.stage, a.stage)} stage "
                    f"to {stage_names.get(b.stage, b.stage)}.",
                )
            )
        if a.duration_minutes != b.duration_minutes:
            out.append(
                Change(
                    INTERVIEWS, f"{b.title}: {a.duration_minutes} → {b.duration_minutes} minutes."
                )
            )
        gained = [k for k in b.competencies if k not in a.competencies]
        lost = [k for k in a.competencies if k not in b.competencies]
        if gained:
            out.append(Change(INTERVIEWS, f"{b.title}: now also assesses {assessed(gained)}."))
        if lost:
            out.append(Change(INTERVIEWS, f"{b.title}: no longer assesses {assessed(lost)}."))
        out += _questions(b.title, a.questions, b.questions)
        return out

    return _matched_changes(
        INTERVIEWS,
        old.interviews,
        new.interviews,
        added=lambda i: (
            f"Interview “{i.title}” added: {stage_names.get(i.stage, i.stage)} stage, "
            f"{i.duration_minutes} minutes, assesses {assessed(i.competencies)}."
        ),
        removed=lambda i: f"Interview “{i.title}” removed.",
        changed=changed,
    )


def _questions(title: str, old: Sequence[Question], new: Sequence[Question]) -> list[Change]:
    """Questions are matched by their text: a reworded question is one removed, one added."""
    before = {q.text: q for q in old}
    after = {q.text: q for q in new}
    out = []
    for q in new:
        if q.text not in before:
            out.append(Change(INTERVIEWS, f"{title}: question added.", after=q.text))
        elif before[q.text].follow_ups != q.follow_ups:
            out.append(
                Change(
                    INTERVIEWS,
                    f"{title}: follow-ups changed for a question.",
                    before="\n".join(before[q.text].follow_ups),
                    after="\n".join(q.follow_ups),
                )
            )
    out += [
        Change(INTERVIEWS, f"{title}: question removed.", before=q.text)
        for q in old
        if q.text not in after
    ]
    if not out and [q.text for q in old] != [q.text for q in new]:
        out.append(Change(INTERVIEWS, f"{title}: questions reordered."))
    return out


def _scoring(old: InterviewTemplate, new: InterviewTemplate) -> list[Change]:
    a, b = old.scoring, new.scoring
    changes = []
    if a.min_evidence_chars != b.min_evidence_chars:
        changes.append(
            Change(
                SCORING,
                f"Evidence needed per score: at least {a.min_evidence_chars} "
                f"→ {b.min_evidence_chars} characters.",
            )
        )
    if a.late_feedback_hours != b.late_feedback_hours:
        changes.append(
            Change(
                SCORING,
                f"A scorecard is late after {a.late_feedback_hours} "
                f"→ {b.late_feedback_hours} hours.",
            )
        )
    if a.dissent_threshold != b.dissent_threshold:
        changes.append(
            Change(
                SCORING,
                f"Panel disagreement flagged from a spread of {a.dissent_threshold:g} "
                f"→ {b.dissent_threshold:g} points.",
            )
        )
    names = {c.key: c.name for c in (*old.competencies, *new.competencies)}
    for key in [*b.bars, *(k for k in a.bars if k not in b.bars)]:
        if a.bars.get(key) != b.bars.get(key):
            changes.append(
                Change(
                    SCORING,
                    f"Bar for {names.get(key, key)}: {_bar(a.bars.get(key))} "
                    f"→ {_bar(b.bars.get(key))}.",
                )
            )
    return changes


# ---- Matching by key --------------------------------------------------------------

_Keyed = TypeVar("_Keyed", Stage, Competency, Interview)


def _matched(
    section: str,
    old: Sequence[_Keyed],
    new: Sequence[_Keyed],
    *,
    added: Callable[[_Keyed], str],
    removed: Callable[[_Keyed], str],
    changed: Callable[[_Keyed, _Keyed], list[str]],
) -> list[Change]:
    return _matched_changes(
        section,
        old,
        new,
        added=added,
        removed=removed,
        changed=lambda a, b: [Change(section, text) for text in changed(a, b)],
    )


def _matched_changes(
    section: str,
    old: Sequence[_Keyed],
    new: Sequence[_Keyed],
    *,
    added: Callable[[_Keyed], str],
    removed: Callable[[_Keyed], str],
    changed: Callable[[_Keyed, _Keyed], list[Change]],
) -> list[Change]:
    before = {item.key: item for item in old}
    after_keys = {item.key for item in new}
    changes = []
    for item in new:
        if item.key not in before:
            changes.append(Change(section, added(item)))
        elif before[item.key] != item:
            changes += changed(before[item.key], item)
    changes += [Change(section, removed(item)) for item in old if item.key not in after_keys]
    return changes


# ---- Words ----------------------------------------------------------------------


def _words(items: Iterable[str]) -> str:
    listed = [i.replace("_", " ") for i in items]
    if not listed:
        return "nothing"
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]


def _retention(days: int | None) -> str:
    return "for the default period" if days is None else f"{days} days"


def _reminders(r: Reminders) -> str:
    return f"first after {r.first_after_hours} h, then every {r.every_hours} h, at most {r.max_reminders}"


def _bar(level: int | None) -> str:
    return "none" if level is None else f"level {level}"
