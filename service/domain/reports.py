"""Pure pieces of the fairness and pipeline reports: group counts, stay times, next steps.

The numbers come from SQL aggregates; this module turns them into report rows
without knowing where they came from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np

from service.domain import adverse_impact, suppression
from service.domain.adverse_impact import GroupCounts
from service.domain.self_identification import DIMENSIONS, QUESTIONS, group_of, groups
from service.domain.suppression import Chain, Step
from service.domain.templates import InterviewTemplate

SECONDS_PER_DAY = 86400.0


def stage_maps(
    versions: Iterable[tuple[int, InterviewTemplate]],
) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], int]]:
    """Per (template version id, stage key): its position in the template and its target days."""
    position, sla = {}, {}
    for version_id, template in versions:
        for index, stage in enumerate(template.stages):
            position[(version_id, stage.key)] = index
            sla[(version_id, stage.key)] = stage.sla_days
    return position, sla


Answers = tuple[str | None, ...]  # self-identification answers in QUESTIONS order


def group_counts(dimension: str, rows: Iterable[tuple[Answers, int, int]]) -> list[GroupCounts]:
    """Sum (answers, reached, selected) rows into every group of `dimension`, empty ones too.

    Declined and missing answers belong to no group and are left out.
    """
    reached: dict[str, int] = defaultdict(int)
    selected: dict[str, int] = defaultdict(int)
    for answers, n_reached, n_selected in rows:
        group = _group(dimension, answers)
        if group is not None:
            reached[group] += n_reached
            selected[group] += n_selected
    return [GroupCounts(g, reached[g], selected[g]) for g in _groups(dimension)]


def dimension_counts(rows: Iterable[tuple[Answers, int, int]]) -> dict[str, list[GroupCounts]]:
    """`group_counts` of every dimension in one pass over the rows: a row's answers are
    looked up once, not once per dimension, and its counts added to list positions
    rather than to dict entries (five passes were ~15 ms of the whole organisation's
    report at 100k applications)."""
    slots = _slots()
    reached, selected = [0] * len(slots), [0] * len(slots)
    for answers, n_reached, n_selected in rows:
        for index in _slots_of_answers(answers):
            reached[index] += n_reached
            selected[index] += n_selected
    counts: dict[str, list[GroupCounts]] = {d: [] for d in DIMENSIONS}
    for index, (d, g) in enumerate(slots):
        counts[d].append(GroupCounts(g, reached[index], selected[index]))
    return counts


@cache
def _slots() -> tuple[tuple[str, str], ...]:
    """Every (dimension, group) of a report, dimensions in order, each's groups in order."""
    return tuple((d, g) for d in DIMENSIONS for g in _groups(d))


@lru_cache(maxsize=4096)
def _slots_of_answers(answers: Answers) -> tuple[int, ...]:
    """The positions in `_slots` of the groups the answers are in (one per dimension at most)."""
    index = {slot: i for i, slot in enumerate(_slots())}
    return tuple(index[(d, g)] for d in DIMENSIONS if (g := _group(d, answers)) is not None)


# A report asks for the group of the same few hundred answer combinations thousands of
# times (each step, each dimension); both are pure functions of a small closed set.
@lru_cache(maxsize=4096)
def _group(dimension: str, answers: Answers) -> str | None:
    return group_of(dimension, dict(zip(QUESTIONS, answers, strict=True)))


@cache
def _groups(dimension: str) -> tuple[str, ...]:
    return groups(dimension)


def analyse_steps(
    steps: Mapping[Step, Sequence[tuple[Answers, int, int]]],
    chains: Sequence[Chain],
    *,
    min_applicants: int,
    min_selections: int,
) -> dict[tuple[str, Step], dict[str, Any]]:
    """`adverse_impact.to_dict` of every step for every dimension, listing every group.

    What is hidden is decided once over everything here together
    (`service.domain.suppression`), so that no served table lets a reader solve
    for a count hidden in another; callers serve any subset of the result (one
    stage, one dimension) and it stays consistent with the rest. Empty groups are
    listed as suppressed, the same as small ones, so a label never tells whether
    anyone answered so. `chains` must cover every step in `steps`.
    """
    counts = {
        (d, step): listed
        for step, rows in steps.items()
        for d, listed in dimension_counts(rows).items()
    }
    shown = suppression.shown_counts(
        counts, chains, min_applicants=min_applicants, min_selections=min_selections
    )
    masks = {}
    for key, listed in counts.items():
        # Too few for a rate is hidden as insufficient data even where the count itself is
        # not secret (its slot is large: most of the group is still waiting at this stage).
        hidden = {
            c.group
            for c in listed
            if not shown[key][c.group].reached or c.reached == 0 or c.reached < min_applicants
        }
        reached_only = {
            c.group
            for c in listed
            if c.group not in hidden
            and (not shown[key][c.group].selected or c.selected < min_selections)
        }
        masks[key] = (hidden, reached_only)
    # Every step's Fisher tests in one batch (a few numpy calls, not ~30 per test).
    tables = [
        table
        for key, (hidden, reached_only) in masks.items()
        for table in adverse_impact.fisher_tables(
            counts[key], hidden=hidden, reached_only=reached_only
        )
    ]
    fisher = dict(zip(tables, adverse_impact.fisher_exact_tests_many(tables), strict=True))
    return {
        key: adverse_impact.to_dict(
            adverse_impact.analyse_step(
                counts[key],
                min_applicants=min_applicants,
                min_selections=min_selections,
                hidden=hidden,
                reached_only=reached_only,
                fisher=fisher.__getitem__,
            )
        )
        for key, (hidden, reached_only) in masks.items()
    }


@dataclass(frozen=True)
class StaySummary:
    stays: int
    median_days: float | None
    p90_days: float | None
    share_over_target: float | None


def stay_summaries(
    stays: Sequence[tuple[str, float]], targets: Mapping[str, int]
) -> dict[str, StaySummary]:
    """Median and 90th percentile of finished stays per stage, in days, in one numpy pass."""
    summaries = {stage: StaySummary(0, None, None, None) for stage in targets}
    if not stays:
        return summaries
    stage = np.array([s for s, _ in stays])
    days = np.array([d for _, d in stays], dtype=float) / SECONDS_PER_DAY
    order = np.argsort(stage, kind="stable")
    stage, days = stage[order], days[order]
    keys, starts = np.unique(stage, return_index=True)
    for raw_key, chunk in zip(keys, np.split(days, starts[1:]), strict=True):
        key = str(raw_key)
        if key not in targets:
            continue  # a stage the current template no longer has
        median, p90 = np.percentile(chunk, [50, 90])
        summaries[key] = StaySummary(
            stays=len(chunk),
            median_days=round(float(median), 2),
            p90_days=round(float(p90), 2),
            share_over_target=round(float((chunk > targets[key]).mean()), 4),
        )
    return summaries


@dataclass(frozen=True)
class InterviewState:
    interview_key: str
    interviewer_id: int
    interviewer_name: str
    status: str
    scorecard_submitted: bool


@dataclass(frozen=True)
class NextStep:
    owner_role: str
    owner_ids: tuple[int, ...]
    owner_names: tuple[str, ...]
    action: str


def next_step(
    template: InterviewTemplate,
    stage_key: str,
    interviews: Sequence[InterviewState],
    hiring_manager: tuple[int, str],
    recruiter: tuple[int, str] | None = None,
) -> NextStep:
    """Who holds up an application waiting in `stage_key`, and what they need to do.

    In order: interviewers who owe a scorecard for an interview held or planned;
    the recruiter when the stage has interviews not yet scheduled; the hiring
    manager in the final stage (the decision); otherwise the recruiter (move on
    or close): the requisition's recruiter when it has one, else any recruiter.
    """
    ids, names = ((recruiter[0],), (recruiter[1],)) if recruiter else ((), ())
    planned = [i.key for i in template.interviews if i.stage == stage_key]
    live = [i for i in interviews if i.status in ("scheduled", "completed")]
    owing = [i for i in live if not i.scorecard_submitted]
    if owing:
        return NextStep(
            "interviewer",
            tuple(i.interviewer_id for i in owing),
            tuple(i.interviewer_name for i in owing),
            "hold the interview and submit the scorecard",
        )
    unscheduled = [k for k in planned if k not in {i.interview_key for i in live}]
    if unscheduled:
        return NextStep("recruiter", ids, names, f"schedule: {', '.join(unscheduled)}")
    if stage_key == template.final_stage.key:
        return NextStep(
            "hiring_manager", (hiring_manager[0],), (hiring_manager[1],), "record the decision"
        )
    return NextStep("recruiter", ids, names, "move to the next stage, or reject with a reason")
