"""The readable diff of two template versions: each kind of change in plain words."""

from dataclasses import replace

import pytest

from service.domain.template_diff import (
    ANCHORS,
    COMPETENCIES,
    INTERVIEWS,
    SCORING,
    STAGES,
    TEMPLATE,
    Change,
    by_section,
    template_changes,
)
from service.domain.template_loading import TEMPLATE_DIR, load_template_file
from service.domain.templates import Question, Reminders, RubricLevel, Stage


@pytest.fixture(scope="module")
def base():
    return load_template_file(TEMPLATE_DIR / "backend_engineer.yaml")


def texts(changes, section=None):
    return [c.text for c in changes if section in (None, c.section)]


def test_the_same_version_has_no_changes(base):
    assert template_changes(base, base) == []


def test_stage_added_removed_renamed_target_and_moves(base):
    applied, screen, *rest = base.stages
    stages = (
        replace(applied, sla_days=2),
        replace(screen, name="Phone screen", next=("technical_screen", "offer")),
        *rest[:-1],
        Stage("references", "Reference checks", 4, ("offer",)),
        rest[-1],
    )
    changes = template_changes(base, replace(base, stages=stages))
    assert texts(changes, STAGES) == [
        "Applied: target 3 → 2 days.",
        "Stage “Recruiter screen” renamed “Phone screen”.",
        "Phone screen: candidates can move on to Technical screen → Technical screen, Offer.",
        "Stage “Reference checks” added (target 4 days).",
    ]
    removed = template_changes(replace(base, stages=stages), base)
    assert "Stage “Reference checks” removed." in texts(removed, STAGES)


def test_a_reordering_of_stages_is_said_once(base):
    a, b, *rest = base.stages
    changes = template_changes(base, replace(base, stages=(b, a, *rest)))
    assert texts(changes) == [
        "Stages reordered: Recruiter screen → Applied → Technical screen → Onsite loop → "
        "Hiring committee debrief → Offer."
    ]


def test_anchor_reworded_carries_both_texts_and_label_changes_are_named(base):
    coding = base.competency("coding")
    rubric = tuple(
        replace(r, anchor="Ships clean code.", label="Solid") if r.level == 3 else r
        for r in coding.rubric
    )
    competencies = tuple(
        replace(c, rubric=rubric) if c.key == "coding" else c for c in base.competencies
    )
    changes = template_changes(base, replace(base, competencies=competencies))
    assert [c.section for c in changes] == [ANCHORS, ANCHORS]
    label, anchor = changes
    assert label.text == "Coding, level 3: label “Good” → “Solid”."
    assert anchor.text == "Coding, level 3 (Solid): anchor reworded."
    assert anchor.before == coding.anchor(3) and anchor.after == "Ships clean code."


def test_a_rubric_level_added_or_removed(base):
    coding = base.competency("coding")
    five = RubricLevel(5, "Exceptional", "Teaches the panel something.")
    competencies = tuple(
        replace(c, rubric=(*c.rubric, five)) if c.key == "coding" else c for c in base.competencies
    )
    changes = template_changes(base, replace(base, competencies=competencies))
    assert changes == [Change(ANCHORS, "Coding: level 5 (Exceptional) added.", after=five.anchor)]
    back = template_changes(replace(base, competencies=competencies), base)
    assert texts(back) == ["Coding: level 5 (Exceptional) removed."]
    assert coding.rubric[0].anchor not in [c.before for c in back]


def test_competency_added_renamed_and_described_anew(base):
    first, *others = base.competencies
    new = replace(first, key="mentoring", name="Mentoring")
    competencies = (replace(first, name="Programming", description="Writes code."), *others, new)
    changes = template_changes(base, replace(base, competencies=competencies))
    assert texts(changes, COMPETENCIES) == [
        "Competency “Coding” renamed “Programming”.",
        "Programming: description reworded.",
        "Competency “Mentoring” added.",
    ]
    described = [c for c in changes if c.before]
    assert described[0].after == "Writes code."
    # A new competency's rubric is part of "added", not a list of new anchors.
    assert texts(changes, ANCHORS) == []


def test_interview_changes_in_words(base):
    first, *others = base.interviews
    extra = next(c for c in base.competencies if c.key not in first.competencies)
    question = Question("Tell us about a failure you learned from.", ("What changed after?",))
    changed = replace(
        first,
        title="Phone coding",
        duration_minutes=first.duration_minutes + 15,
        competencies=(*first.competencies[1:], extra.key),
        questions=(*first.questions[1:], question),
    )
    changes = template_changes(base, replace(base, interviews=(changed, *others[:-1])))
    words = texts(changes, INTERVIEWS)
    assert words[0] == f"Interview “{first.title}” renamed “Phone coding”."
    assert (
        f"Phone coding: {first.duration_minutes} → {first.duration_minutes + 15} minutes." in words
    )
    assert f"Phone coding: now also assesses {extra.name}." in words
    assert "Phone coding: question added." in words
    assert "Phone coding: question removed." in words
    assert words[-1] == f"Interview “{others[-1].title}” removed."
    added = next(c for c in changes if c.text == "Phone coding: question added.")
    assert added.after == question.text


def test_scoring_reminders_and_retention(base):
    bars = dict(base.scoring.bars)
    key = next(iter(bars))
    bars[key] += 1
    changed = replace(
        base,
        scoring=replace(base.scoring, min_evidence_chars=80, bars=bars),
        reminders=Reminders(first_after_hours=2, every_hours=12, max_reminders=5),
        retention_days=200,
    )
    changes = template_changes(base, changed)
    name = base.competency(key).name
    assert texts(changes, SCORING) == [
        f"Evidence needed per score: at least {base.scoring.min_evidence_chars} → 80 characters.",
        f"Bar for {name}: level {base.scoring.bars[key]} → level {bars[key]}.",
    ]
    assert [c.section for c in changes[:2]] == [TEMPLATE, TEMPLATE]


def test_by_section_keeps_the_section_order_and_leaves_out_empty_ones(base):
    changes = [Change(SCORING, "b"), Change(STAGES, "a"), Change(SCORING, "c")]
    assert by_section(changes) == [
        (STAGES, [Change(STAGES, "a")]),
        (SCORING, [Change(SCORING, "b"), Change(SCORING, "c")]),
    ]
